import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../run-folder/files.js';
import { type Chart, renderSvg } from './charts.js';

/** A results table: header and rows of already formatted cells. */
export interface Table {
  columns: string[];
  rows: string[][];
}

/** What a report shows. */
export interface ReportContent {
  title: string;
  /** Short facts shown under the title (data, model, backend, budget, seed…). */
  facts: [string, string][];
  /** Who won, in plain words: headline sentences (shown first) and details. */
  summary?: { headline: string[]; details: string[] };
  table: Table;
  charts: Chart[];
  /** Free-text notes (how to read the results). */
  notes?: string[];
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function tableHtml(table: Table): string {
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const rows = table.rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => `<td${i > 0 ? ' class="n"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/** Renders the report as one self-contained HTML page (inline SVG charts, no scripts, no CDN). */
export async function renderReport(
  content: ReportContent,
): Promise<{ html: string; svgs: { name: string; svg: string }[] }> {
  const svgs: { name: string; svg: string }[] = [];
  for (const chart of content.charts) svgs.push({ name: chart.name, svg: await renderSvg(chart) });
  const facts = content.facts
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('');
  const figures = content.charts
    .map(
      (chart, i) =>
        `<figure id="${chart.name}"><figcaption>${escapeHtml(chart.title)}</figcaption>${svgs[i]!.svg}</figure>`,
    )
    .join('\n');
  const notes = (content.notes ?? []).map((n) => `<li>${escapeHtml(n)}</li>`).join('');
  const summary = content.summary
    ? `<h2>Who won</h2>\n<ul class="verdicts">${content.summary.headline
        .map((h) => `<li><strong>${escapeHtml(h)}</strong></li>`)
        .join('')}</ul>\n<ul>${content.summary.details
        .map((d) => `<li>${escapeHtml(d)}</li>`)
        .join('')}</ul>`
    : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(content.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1400px;color:#222;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.3rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;font-size:.9rem;color:#444}
dt{font-weight:600}dd{margin:0}
table{border-collapse:collapse;margin:1rem 0;font-size:.92rem}
th,td{border-bottom:1px solid #ddd;padding:.3rem .7rem;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f5f5f5}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:1.2rem;align-items:start}
figure{margin:0;border:1px solid #eee;padding:.5rem}figure svg{max-width:100%;height:auto}figcaption{font-weight:600;margin-bottom:.3rem}
</style></head>
<body>
<h1>${escapeHtml(content.title)}</h1>
<dl>${facts}</dl>
${summary}
<h2>Results</h2>
${tableHtml(content.table)}
${notes ? `<ul>${notes}</ul>` : ''}
<h2>Charts</h2>
<div class="charts">
${figures}
</div>
</body></html>
`;
  return { html, svgs };
}

/** Writes `report.html` and `charts/<name>.svg` into `dir`; returns the report's path. */
export async function writeReport(dir: string, content: ReportContent): Promise<string> {
  const { html, svgs } = await renderReport(content);
  await mkdir(join(dir, 'charts'), { recursive: true });
  for (const { name, svg } of svgs) await writeFileAtomic(join(dir, 'charts', `${name}.svg`), svg);
  const path = join(dir, 'report.html');
  await writeFileAtomic(path, html);
  return path;
}
