import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataFormatError } from '../errors.js';

/** File name endings of the images the app reads. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** Whether a file name ends in one of `IMAGE_EXTENSIONS` (any case). */
export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** A decoded image: RGB bytes, row-major `[height, width, 3]`, and whether it is grey. */
export interface DecodedImage {
  width: number;
  height: number;
  rgb: Uint8Array;
  /** Its three channels are equal at every pixel (a greyscale image, whatever its file type). */
  grey: boolean;
}

/**
 * Decodes a PNG or JPEG (chosen by the file's magic bytes, not its name) with pure-JS decoders
 * (`pngjs`, `jpeg-js`), so it works wherever Node runs. Alpha is dropped. An unreadable file is a
 * `DataFormatError` naming `path`.
 */
export function decodeImage(bytes: Uint8Array, path: string): DecodedImage {
  let width: number;
  let height: number;
  let rgba: Uint8Array;
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      ({ width, height } = png);
      rgba = png.data;
    } else if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxMemoryUsageInMB: 1024,
      });
      ({ width, height } = img);
      rgba = img.data;
    } else {
      throw new Error('neither a PNG nor a JPEG signature');
    }
  } catch (error) {
    throw new DataFormatError(
      path,
      `${path} is not a readable image (${(error as Error).message}); expected a PNG or JPEG file.`,
    );
  }
  const n = width * height;
  const rgb = new Uint8Array(n * 3);
  let grey = true;
  for (let p = 0; p < n; p++) {
    const r = rgba[4 * p]!;
    const g = rgba[4 * p + 1]!;
    const b = rgba[4 * p + 2]!;
    rgb[3 * p] = r;
    rgb[3 * p + 1] = g;
    rgb[3 * p + 2] = b;
    if (r !== g || g !== b) grey = false;
  }
  return { width, height, rgb, grey };
}

/** The image's pixels with `channels` channels (1: its red channel, which is grey's value; 3: RGB). */
export function pixelsOf(image: DecodedImage, channels: 1 | 3): Uint8Array {
  if (channels === 3) return image.rgb;
  const out = new Uint8Array(image.width * image.height);
  for (let p = 0; p < out.length; p++) out[p] = image.rgb[3 * p]!;
  return out;
}

/**
 * Bilinear resize of `[h, w, c]` bytes to `[toH, toW, c]` with half-pixel centres (what
 * `tf.image.resizeBilinear(…, halfPixelCenters=true)` and PIL's bilinear do when enlarging),
 * rounded to bytes.
 */
export function resizeBilinear(
  src: Uint8Array,
  h: number,
  w: number,
  c: number,
  toH: number,
  toW: number,
): Uint8Array {
  if (h === toH && w === toW) return src;
  const out = new Uint8Array(toH * toW * c);
  const sy = h / toH;
  const sx = w / toW;
  for (let y = 0; y < toH; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = fy - y0;
    for (let x = 0; x < toW; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const dx = fx - x0;
      for (let k = 0; k < c; k++) {
        const a = src[(y0 * w + x0) * c + k]!;
        const b = src[(y0 * w + x1) * c + k]!;
        const d = src[(y1 * w + x0) * c + k]!;
        const e = src[(y1 * w + x1) * c + k]!;
        const top = a + (b - a) * dx;
        const bottom = d + (e - d) * dx;
        out[(y * toW + x) * c + k] = Math.round(top + (bottom - top) * dy);
      }
    }
  }
  return out;
}

/** Encodes `[h, w, c]` bytes (c = 1 or 3) as a PNG (8-bit grey or RGB): for tests and tools. */
export function encodePng(
  pixels: Uint8Array,
  height: number,
  width: number,
  channels: 1 | 3,
): Uint8Array {
  const png = new PNG({ width, height, colorType: channels === 1 ? 0 : 2, inputColorType: 6 });
  for (let p = 0; p < width * height; p++) {
    for (let k = 0; k < 3; k++)
      png.data[4 * p + k] = pixels[p * channels + (channels === 1 ? 0 : k)]!;
    png.data[4 * p + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: channels === 1 ? 0 : 2, inputColorType: 6 });
}
