import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { curveChart, lossChart, lrChart, reliabilityChart, sizeCurveChart } from './charts.js';
import { type ReportContent, writeReport } from './report.js';

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
          step: s,
          lr: 0.05 * (1 + Math.cos((Math.PI * (s % 10)) / 10)),
        })),
        [9, 19, 29, 39].map((s) => ({ series: 'sse', step: s, lr: 0.001 })),
      ),
      lossChart(steps.map((s) => ({ series: 'sse', step: s, loss: 2 / (1 + s) }))),
      sizeCurveChart([1, 2, 3].map((k) => ({ series: 'sse', size: k, error: 0.1 - k * 0.01 }))),
      reliabilityChart(
        [0.35, 0.55, 0.75, 0.95].map((c) => ({
          series: 'sse',
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
    expect(html.match(/<svg/g)?.length).toBe(5);
    for (const name of ['lr-schedule', 'training-loss', 'ensemble-size', 'reliability', 'curve']) {
      expect(await readFile(join(dir, 'charts', `${name}.svg`), 'utf8')).toMatch(/^<svg/);
    }
  });

  it('draws every chart in headless Chromium', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onerun-report-'));
    dirs.push(dir);
    const path = await writeReport(dir, sampleContent());
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(path).href);
      const charts = await page.$$eval('figure > svg', (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          const marks = svg.querySelectorAll('g.role-mark path, g.role-mark line');
          let drawn = 0;
          marks.forEach((m) => {
            const b = (m as SVGGraphicsElement).getBBox();
            if (b.width > 0 || b.height > 0) drawn++;
          });
          return {
            id: svg.parentElement?.id,
            width: box.width,
            height: box.height,
            drawn,
          };
        }),
      );
      expect(charts.map((c) => c.id)).toEqual([
        'lr-schedule',
        'training-loss',
        'ensemble-size',
        'reliability',
        'curve',
      ]);
      for (const c of charts) {
        expect(c.width, c.id).toBeGreaterThan(100);
        expect(c.height, c.id).toBeGreaterThan(100);
        expect(c.drawn, c.id).toBeGreaterThan(0);
      }
    } finally {
      await browser.close();
    }
  });
});
