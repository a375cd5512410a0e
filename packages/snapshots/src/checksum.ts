/** Prefix of every checksum this package writes: the algorithm, so that it can change later. */
export const CHECKSUM_PREFIX = 'sha256:';

function hex(digest: ArrayBuffer): string {
  const bytes = new Uint8Array(digest);
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/**
 * `sha256:<hex>` of `bytes`, computed with WebCrypto (`globalThis.crypto.subtle`, present in
 * Node ≥ 20 and in browsers on secure origins).
 */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) {
    throw new Error(
      'WebCrypto (globalThis.crypto.subtle) is not available; expected Node ≥ 20 or a browser ' +
        'page served over https or localhost.',
    );
  }
  return CHECKSUM_PREFIX + hex(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}
