// A forest plot in plain SVG (no dependencies): one line per difference, its 95% interval as a
// bar, 0 as a solid line and the claim's margin −δ as a dashed one.

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One line of a forest plot. */
export interface ForestItem {
  label: string;
  mean: number;
  lo: number;
  hi: number;
  /** The claim's margin δ: a dashed line at −δ. */
  margin?: number;
  /** Colour of the point and bar (the verdict's). */
  color?: string;
}

/** A forest plot of `items` on one axis labelled `axis`. */
export function forestSvg(title: string, axis: string, items: ForestItem[]): string {
  const row = 26;
  const left = 330;
  const right = 30;
  const width = 820;
  const top = 34;
  const height = top + items.length * row + 44;
  const values = items
    .flatMap((i) => [i.lo, i.hi, i.mean, -(i.margin ?? 0)])
    .filter(Number.isFinite);
  let lo = Math.min(0, ...values);
  let hi = Math.max(0, ...values);
  const pad = (hi - lo) * 0.08 || 0.1;
  lo -= pad;
  hi += pad;
  const X = (x: number) => left + ((x - lo) / (hi - lo)) * (width - left - right);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>`,
  ];
  const bottom = top + items.length * row;
  for (let k = 0; k <= 5; k++) {
    const x = lo + ((hi - lo) * k) / 5;
    out.push(
      `<line x1="${X(x).toFixed(1)}" y1="${top}" x2="${X(x).toFixed(1)}" y2="${bottom}" stroke="#eee"/>`,
      `<text x="${X(x).toFixed(1)}" y="${bottom + 14}" text-anchor="middle" font-size="10">${Number(x.toPrecision(3))}</text>`,
    );
  }
  out.push(
    `<line x1="${X(0).toFixed(1)}" y1="${top - 4}" x2="${X(0).toFixed(1)}" y2="${bottom}" stroke="#444"/>`,
    `<text x="${(left + width - right) / 2}" y="${bottom + 32}" text-anchor="middle" font-size="11">${esc(axis)}</text>`,
  );
  items.forEach((item, i) => {
    const y = top + i * row + row / 2;
    const color = item.color ?? '#1f77b4';
    out.push(
      `<text x="${left - 8}" y="${y + 4}" text-anchor="end" font-size="11">${esc(item.label)}</text>`,
    );
    if (item.margin !== undefined && item.margin > 0)
      out.push(
        `<line x1="${X(-item.margin).toFixed(1)}" y1="${y - 9}" x2="${X(-item.margin).toFixed(1)}" y2="${y + 9}" stroke="#999" stroke-dasharray="3,2"/>`,
      );
    if (Number.isFinite(item.lo) && Number.isFinite(item.hi))
      out.push(
        `<line x1="${X(item.lo).toFixed(1)}" y1="${y}" x2="${X(item.hi).toFixed(1)}" y2="${y}" stroke="${color}" stroke-width="2"/>`,
      );
    if (Number.isFinite(item.mean))
      out.push(`<circle cx="${X(item.mean).toFixed(1)}" cy="${y}" r="4" fill="${color}"/>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
