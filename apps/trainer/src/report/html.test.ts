import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  curveChart,
  epochMetricChart,
  lossChart,
  lrChart,
  reliabilityChart,
  sizeCurveChart,
} from './charts.js';
import { type ReportContent, writeReport } from './html.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function sampleContent(): ReportContent {
  const steps = Array.from({ length: 40 }, (_, i) => i);
  return {
    title: 'onerun report <test>',
    facts: [
      ['data', 'synthetic'],
      ['seed', '0'],
    ],
    table: {
      columns: ['method', 'accuracy'],
      rows: [
        ['sse', '91.0%'],
        ['fge & co', '90.5%'],
      ],
    },
    charts: [
      lrChart(
        steps.map((s) => ({
          series: 'sse',
          epoch: s / 10,
          lr: 0.05 * (1 + Math.cos((Math.PI * (s % 10)) / 10)),
        })),
        [9, 19, 29, 39].map((s) => ({ series: 'sse', epoch: s / 10, lr: 0.001 })),
      ),
      lossChart(steps.map((s) => ({ series: 'sse', epoch: s / 10, loss: 2 / (1 + s) }))),
      epochMetricChart(
        'test-error',
        [1, 2, 3, 4].map((e) => ({ series: 'sse', epoch: e, value: 0.2 / e })),
      ),
      sizeCurveChart([1, 2, 3].map((k) => ({ series: 'sse', size: k, error: 0.1 - k * 0.01 }))),
      reliabilityChart(
        [0.35, 0.55, 0.75, 0.95].map((c) => ({
          series: 'sse',
          lower: c - 0.1,
          upper: c + 0.1,
          confidence: c,
          accuracy: c - 0.05,
          count: 10,
        })),
      ),
      curveChart(
        [0, 0.5, 1].flatMap((t) => [
          { path: 'curve', t, metric: 'train loss', value: 0.3 },
          { path: 'line', t, metric: 'train loss', value: 0.3 + t * (1 - t) * 4 },
        ]),
      ),
    ],
  };
}

describe('report', () => {
  it('writes a self-contained HTML page and one SVG file per chart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onerun-report-'));
    dirs.push(dir);
    const path = await writeReport(dir, sampleContent());
    const html = await readFile(path, 'utf8');
    expect(html).toContain('onerun report &#60;test&#62;');
    expect(html).toContain('fge &#38; co');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html.match(/<svg/g)?.length).toBe(6);
    for (const name of [
      'lr-schedule',
      'training-loss',
      'test-error-by-epoch',
      'ensemble-size',
      'reliability',
      'curve',
    ]) {
      expect(await readFile(join(dir, 'charts', `${name}.svg`), 'utf8')).toMatch(/^<svg/);
    }
  });
});
