// Plain SVG charts (no dependencies) for docs/make-results.mjs: lines with optional error bars,
// and reliability diagrams with bin counts.

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** One panel: `series` of `{ name, color, xs, ys, lo?, hi?, dash? }`; returns SVG elements. */
export function linePanel({ title, xLabel, yLabel, series, width = 420, height = 280 }) {
  const m = { l: 60, r: 12, t: 28, b: 40 };
  const ys = series
    .flatMap((s) => [...s.ys, ...(s.lo ?? []), ...(s.hi ?? [])])
    .filter(Number.isFinite);
  const xs = series.flatMap((s) => s.xs);
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  const pad = (hi - lo) * 0.08 || 0.01;
  lo -= pad;
  hi += pad;
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const xPad = (x1 - x0) * 0.04 || 0.5;
  const X = (x) => m.l + ((x - x0 + xPad) / (x1 - x0 + 2 * xPad)) * (width - m.l - m.r);
  const Y = (y) => height - m.b - ((y - lo) / (hi - lo)) * (height - m.t - m.b);
  const out = [
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${height - m.b}" x2="${width - m.r}" y2="${height - m.b}" stroke="#444"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${height - m.b}" stroke="#444"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = lo + ((hi - lo) * i) / 5;
    out.push(
      `<text x="${m.l - 4}" y="${(Y(y) + 4).toFixed(1)}" text-anchor="end" font-size="10">${y.toPrecision(3)}</text>`,
      `<line x1="${m.l}" y1="${Y(y).toFixed(1)}" x2="${width - m.r}" y2="${Y(y).toFixed(1)}" stroke="#eee"/>`,
    );
  }
  const ticks = [...new Set(xs)].sort((a, b) => a - b);
  const shown =
    ticks.length <= 12 ? ticks : ticks.filter((_, i) => i % Math.ceil(ticks.length / 6) === 0);
  for (const x of shown) {
    out.push(
      `<text x="${X(x).toFixed(1)}" y="${height - m.b + 14}" text-anchor="middle" font-size="10">${Number(x.toFixed(2))}</text>`,
    );
  }
  out.push(
    `<text x="${(m.l + width - m.r) / 2}" y="${height - 6}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`,
    `<text x="12" y="${(m.t + height - m.b) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${(m.t + height - m.b) / 2})">${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const pts = s.ys.map((y, j) => `${X(s.xs[j]).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ' stroke-dasharray="5,3"' : ''} points="${pts}"/>`,
    );
    for (const [j, y] of s.ys.entries()) {
      const x = X(s.xs[j]).toFixed(1);
      out.push(`<circle cx="${x}" cy="${Y(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
      if (s.lo && Number.isFinite(s.lo[j]) && Number.isFinite(s.hi[j])) {
        out.push(
          `<line x1="${x}" y1="${Y(s.lo[j]).toFixed(1)}" x2="${x}" y2="${Y(s.hi[j]).toFixed(1)}" stroke="${s.color}" stroke-width="1.2"/>`,
        );
      }
    }
    out.push(
      `<text x="${width - m.r - 4}" y="${m.t + 12 + 13 * i}" text-anchor="end" font-size="10.5" fill="${s.color}">${esc(s.name)}</text>`,
    );
  });
  return out;
}

/** A reliability diagram: accuracy per confidence bin as bars, the diagonal, counts above. */
export function reliabilityPanel({ title, bins, width = 420, height = 280 }) {
  const m = { l: 50, r: 12, t: 28, b: 40 };
  const X = (x) => m.l + x * (width - m.l - m.r);
  const Y = (y) => height - m.b - y * (height - m.t - m.b);
  const out = [
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(0)}" stroke="#444"/>`,
    `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(0)}" y2="${Y(1)}" stroke="#444"/>`,
    `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(1)}" stroke="#999" stroke-dasharray="4,3"/>`,
    `<text x="${(X(0) + X(1)) / 2}" y="${height - 6}" text-anchor="middle" font-size="11">confidence</text>`,
    `<text x="12" y="${(Y(0) + Y(1)) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${(Y(0) + Y(1)) / 2})">accuracy</text>`,
  ];
  for (const v of [0, 0.5, 1]) {
    out.push(
      `<text x="${X(v)}" y="${Y(0) + 14}" text-anchor="middle" font-size="10">${v}</text>`,
      `<text x="${X(0) - 4}" y="${Y(v) + 4}" text-anchor="end" font-size="10">${v}</text>`,
    );
  }
  for (const b of bins) {
    if (!b.count) continue;
    const x = X(b.lower) + 1;
    const w = X(b.upper) - X(b.lower) - 2;
    out.push(
      `<rect x="${x.toFixed(1)}" y="${Y(b.accuracy).toFixed(1)}" width="${w.toFixed(1)}" height="${(Y(0) - Y(b.accuracy)).toFixed(1)}" fill="#1f77b4" fill-opacity="0.55"/>`,
      `<line x1="${x.toFixed(1)}" y1="${Y(b.confidence).toFixed(1)}" x2="${(x + w).toFixed(1)}" y2="${Y(b.confidence).toFixed(1)}" stroke="#d62728" stroke-width="1.5"/>`,
      `<text x="${(x + w / 2).toFixed(1)}" y="${(Y(b.accuracy) - 3).toFixed(1)}" text-anchor="middle" font-size="8">${b.count}</text>`,
    );
  }
  return out;
}

/** Panels side by side, `perRow` to a row, each `width × height`. */
export function svgGrid(panels, { width = 420, height = 280, perRow = 2 } = {}) {
  const rows = Math.ceil(panels.length / perRow);
  const W = width * Math.min(perRow, panels.length);
  const H = height * rows;
  const body = panels.map((p, i) => {
    const x = (i % perRow) * width;
    const y = Math.floor(i / perRow) * height;
    return `<g transform="translate(${x},${y})">\n${p.join('\n')}\n</g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${body.join('\n')}\n</svg>\n`;
}
