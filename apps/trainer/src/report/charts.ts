import type { TopLevelSpec } from 'vega-lite';

/** A chart of the report: a file name (without extension), a title and its vega-lite spec. */
export interface Chart {
  name: string;
  title: string;
  spec: TopLevelSpec;
}

const WIDTH = 440;
const HEIGHT = 240;

function base(title: string): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: WIDTH,
    height: HEIGHT,
    title,
    config: {
      font: 'sans-serif',
      view: { stroke: '#ddd' },
      // Lines show as strokes in legends, so a dashed series can be told from a solid one.
      legend: {
        symbolType: 'stroke',
        symbolStrokeWidth: 2.5,
        symbolSize: 300,
        symbolStrokeColor: '#444',
      },
    },
  };
}

/** One colour and one dash pattern per method, the same in every report. */
export const METHOD_STYLE: Record<string, { color: string; dash: number[] }> = {
  baseline: { color: '#4c78a8', dash: [1, 0] },
  sse: { color: '#f58518', dash: [6, 3] },
  fge: { color: '#54a24b', dash: [2, 2] },
  swa: { color: '#b279a2', dash: [8, 3, 2, 3] },
};
const OTHER_STYLE = { color: '#7f7f7f', dash: [4, 4] };

/** The method a series name belongs to (`sse`, `sse seed 1`, `swa-stale-bn`…). */
function methodOf(series: string): string {
  return Object.keys(METHOD_STYLE).find((m) => series === m || series.startsWith(`${m} `)) ?? '';
}

/** Colour (and dash) scales that give every series its method's fixed style. */
function seriesScales(series: string[]) {
  const domain = [...new Set(series)];
  const style = (s: string) => METHOD_STYLE[methodOf(s)] ?? OTHER_STYLE;
  return {
    color: {
      field: 'series',
      type: 'nominal',
      title: 'method',
      scale: { domain, range: domain.map((s) => style(s).color) },
    },
    strokeDash: {
      field: 'series',
      type: 'nominal',
      title: 'method',
      scale: { domain, range: domain.map((s) => style(s).dash) },
    },
  } as const;
}

/** One learning-rate value of a method at a point of training (sampled). */
export interface LrPoint {
  series: string;
  /** Epochs of training done (fractional: update / updates per epoch). */
  epoch: number;
  lr: number;
}

/** Learning rate over training, per method, with the collection points (snapshots or averages). */
export function lrChart(points: LrPoint[], collections: LrPoint[]): Chart {
  const { color, strokeDash } = seriesScales(points.map((p) => p.series));
  return {
    name: 'lr-schedule',
    title: 'Learning-rate schedule and collection points',
    spec: {
      ...base('Learning-rate schedule (dots: models collected)'),
      layer: [
        {
          data: { values: points },
          mark: { type: 'line', strokeWidth: 1.5 },
          encoding: {
            x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
            y: { field: 'lr', type: 'quantitative', title: 'learning rate (per update)' },
            color,
            strokeDash,
          },
        },
        {
          data: { values: collections },
          mark: { type: 'point', filled: true, size: 45 },
          encoding: {
            x: { field: 'epoch', type: 'quantitative' },
            y: { field: 'lr', type: 'quantitative' },
            color,
            tooltip: [
              { field: 'series', title: 'method' },
              { field: 'epoch', type: 'quantitative', format: '.2f' },
            ],
          },
        },
      ],
    } as TopLevelSpec,
  };
}

/** Training loss (window means) over training, per method. */
export function lossChart(points: { series: string; epoch: number; loss: number }[]): Chart {
  const { color, strokeDash } = seriesScales(points.map((p) => p.series));
  return {
    name: 'training-loss',
    title: 'Training loss',
    spec: {
      ...base('Training loss (cross-entropy, window means)'),
      data: { values: points },
      // Linear, fitted to the data (a log axis spread 0.1–2 over 0.01–10); dashes, markers and
      // fixed colours tell the methods apart.
      mark: { type: 'line', strokeWidth: 1.5, point: { size: 12, filled: true } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: {
          field: 'loss',
          type: 'quantitative',
          title: 'training loss (nats)',
          scale: { zero: false, nice: true },
        },
        color,
        strokeDash,
        shape: { field: 'series', type: 'nominal', title: 'method' },
      },
    } as TopLevelSpec,
  };
}

/** One per-epoch test measurement of the model being trained. */
export interface EpochPoint {
  series: string;
  epoch: number;
  value: number;
}

/** A per-epoch test metric of the current iterate, per method (test error or NLL). */
export function epochMetricChart(metric: 'test-error' | 'test-nll', points: EpochPoint[]): Chart {
  const error = metric === 'test-error';
  const { color, strokeDash } = seriesScales(points.map((p) => p.series));
  return {
    name: `${metric}-by-epoch`,
    title: error ? 'Test error by epoch' : 'Test NLL by epoch',
    spec: {
      ...base(
        error
          ? 'Test error of the current model after each epoch'
          : 'Test NLL of the current model after each epoch',
      ),
      data: { values: points },
      mark: { type: 'line', point: { size: 24, filled: true } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
        y: {
          field: 'value',
          type: 'quantitative',
          title: error ? 'test error (%)' : 'test NLL (nats)',
          scale: { zero: false },
          ...(error ? { axis: { format: '.1%' } } : {}),
        },
        color,
        strokeDash,
        shape: { field: 'series', type: 'nominal', title: 'method' },
      },
    } as TopLevelSpec,
  };
}

/**
 * Test error of the ensemble of the first k members, per k, for the ensemble methods; methods
 * with one final model (baseline, SWA) are horizontal reference lines across the chart (labelled
 * at the right), not dots at k = 1. The y-axis spans every line and reference.
 */
export function sizeCurveChart(points: { series: string; size: number; error: number }[]): Chart {
  const counts = new Map<string, number>();
  for (const p of points) counts.set(p.series, (counts.get(p.series) ?? 0) + 1);
  const curves = points.filter((p) => (counts.get(p.series) ?? 0) > 1);
  const references = points.filter((p) => counts.get(p.series) === 1);
  const { color, strokeDash } = seriesScales(points.map((p) => p.series));
  const errors = points.map((p) => p.error);
  const span = Math.max(...errors) - Math.min(...errors);
  const pad = Math.max(span * 0.25, 0.002);
  const domain = [Math.max(0, Math.min(...errors) - pad), Math.max(...errors) + pad];
  const y = {
    field: 'error',
    type: 'quantitative',
    title: 'test error (%)',
    scale: { domain },
    axis: { format: '.1%' },
  };
  return {
    name: 'ensemble-size',
    title: 'Ensemble size',
    spec: {
      ...base('Test error vs ensemble size (lines across: single-model results)'),
      layer: [
        {
          data: { values: curves },
          mark: { type: 'line', point: { size: 30, filled: true } },
          encoding: {
            x: {
              field: 'size',
              type: 'quantitative',
              title: 'members in the ensemble',
              axis: { tickMinStep: 1 },
              scale: { domainMin: 1 },
            },
            y,
            color,
            strokeDash,
          },
        },
        {
          data: { values: references },
          mark: { type: 'rule', strokeWidth: 1.5 },
          encoding: { y, color, strokeDash },
        },
        {
          data: { values: references },
          mark: { type: 'text', align: 'right', dy: -6, fontSize: 10 },
          encoding: {
            x: { value: WIDTH - 4 },
            y,
            text: { field: 'series' },
            color,
          },
        },
      ],
    } as TopLevelSpec,
  };
}

/** One confidence bin of a model's reliability diagram. */
export interface ReliabilityPoint {
  series: string;
  /** The bin's edges. */
  lower: number;
  upper: number;
  /** Examples in the bin. */
  count: number;
  /** Mean confidence and accuracy of those examples (absent for an empty bin). */
  confidence?: number;
  accuracy?: number;
}

/**
 * Accuracy per confidence bin against the diagonal of perfect calibration (points sized by the
 * bin's count), above a histogram of the confidences: how many test examples each bin holds.
 */
export function reliabilityChart(points: ReliabilityPoint[]): Chart {
  const filled = points.filter((p) => p.count > 0 && p.accuracy !== undefined);
  const { color, strokeDash } = seriesScales(points.map((p) => p.series));

  const { width, height, title, ...rest } = base(
    'Reliability diagram (dashed: perfect calibration); below: examples per bin',
  );
  return {
    name: 'reliability',
    title: 'Reliability diagram',
    spec: {
      ...rest,
      title,
      vconcat: [
        {
          width,
          height,
          layer: [
            {
              data: {
                values: [
                  { x: 0, y: 0 },
                  { x: 1, y: 1 },
                ],
              },
              mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
              encoding: {
                x: {
                  field: 'x',
                  type: 'quantitative',
                  title: 'confidence',
                  scale: { domain: [0, 1] },
                },
                y: {
                  field: 'y',
                  type: 'quantitative',
                  title: 'accuracy',
                  scale: { domain: [0, 1] },
                },
              },
            },
            {
              data: { values: filled },
              mark: { type: 'line', point: { filled: true } },
              encoding: {
                x: { field: 'confidence', type: 'quantitative' },
                y: { field: 'accuracy', type: 'quantitative' },
                color,
                strokeDash,
                // A bin with few examples can sit far from the diagonal by chance: its point is
                // small, and the size legend says how many examples a size stands for.
                size: {
                  field: 'count',
                  type: 'quantitative',
                  title: 'examples in bin',
                  scale: { type: 'sqrt', range: [6, 160] },
                },
                tooltip: [
                  { field: 'series', title: 'model' },
                  { field: 'count', type: 'quantitative', title: 'examples' },
                  { field: 'confidence', type: 'quantitative', format: '.3f' },
                  { field: 'accuracy', type: 'quantitative', format: '.3f' },
                ],
              },
            },
          ],
        },
        {
          width,
          height: 110,
          data: { values: points },
          // One step line per model (overlaid translucent bars blended into one colour).
          mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
          encoding: {
            x: {
              field: 'lower',
              type: 'quantitative',
              title: 'confidence (bins of width 1/15)',
              scale: { domain: [0, 1] },
            },
            y: { field: 'count', type: 'quantitative', title: 'examples per bin' },
            color,
            strokeDash,
            tooltip: [
              { field: 'series', title: 'model' },
              { field: 'count', type: 'quantitative', title: 'examples' },
            ],
          },
        },
      ],
    } as TopLevelSpec,
  };
}

/**
 * Along the found curve and along the straight line between two models: training loss (nats)
 * and test error (%) in two panels, each with its own axis.
 */
export function curveChart(
  points: { path: string; t: number; metric: string; value: number }[],
): Chart {
  const panel = (metric: string, title: string, format?: string) => ({
    width: WIDTH,
    height: 150,
    data: { values: points.filter((p) => p.metric === metric) },
    mark: { type: 'line', point: { size: 18, filled: true } },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 't (0 = model A, 1 = model B)' },
      y: {
        field: 'value',
        type: 'quantitative',
        title,
        scale: { zero: false },
        ...(format ? { axis: { format } } : {}),
      },
      color: { field: 'path', type: 'nominal', title: 'path' },
      strokeDash: { field: 'path', type: 'nominal', title: 'path' },
    },
  });
  const { width: _w, height: _h, ...rest } = base('Along the curve vs the straight line');
  return {
    name: 'curve',
    title: 'Mode connectivity',
    spec: {
      ...rest,
      vconcat: [
        panel('train loss', 'training loss (nats)'),
        panel('test error', 'test error (%)', '.1%'),
      ],
    } as TopLevelSpec,
  };
}

/**
 * Renders a chart to standalone SVG text (vega-lite → vega → SVG; no browser or canvas). The
 * chart libraries are loaded on first use, so commands that write no report never load them.
 */
export async function renderSvg(chart: Chart): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const { spec } = compile(chart.spec);
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
