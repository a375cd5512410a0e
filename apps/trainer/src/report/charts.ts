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

const METHOD_COLOR = { field: 'series', type: 'nominal', title: 'method' } as const;

/** One learning-rate value of a method at a point of training (sampled). */
export interface LrPoint {
  series: string;
  /** Epochs of training done (fractional: update / updates per epoch). */
  epoch: number;
  lr: number;
}

/** Learning rate over training, per method, with the collection points (snapshots or averages). */
export function lrChart(points: LrPoint[], collections: LrPoint[]): Chart {
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
            y: { field: 'lr', type: 'quantitative', title: 'learning rate' },
            color: METHOD_COLOR,
          },
        },
        {
          data: { values: collections },
          mark: { type: 'point', filled: true, size: 45 },
          encoding: {
            x: { field: 'epoch', type: 'quantitative' },
            y: { field: 'lr', type: 'quantitative' },
            color: METHOD_COLOR,
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
  return {
    name: 'training-loss',
    title: 'Training loss',
    spec: {
      ...base('Training loss (cross-entropy, window means)'),
      data: { values: points },
      mark: { type: 'line', strokeWidth: 1.2 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { type: 'log' } },
        color: METHOD_COLOR,
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
      mark: { type: 'line', point: { size: 20 } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
        y: {
          field: 'value',
          type: 'quantitative',
          title: error ? 'test error' : 'test NLL (nats)',
          scale: { zero: false },
          ...(error ? { axis: { format: '.1%' } } : {}),
        },
        color: METHOD_COLOR,
      },
    } as TopLevelSpec,
  };
}

/** Test error of the ensemble of the first k members, per k. */
export function sizeCurveChart(points: { series: string; size: number; error: number }[]): Chart {
  return {
    name: 'ensemble-size',
    title: 'Ensemble size',
    spec: {
      ...base('Test error vs ensemble size'),
      data: { values: points },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'size', type: 'quantitative', title: 'members', axis: { tickMinStep: 1 } },
        y: {
          field: 'error',
          type: 'quantitative',
          title: 'test error',
          scale: { zero: false },
          axis: { format: '.1%' },
        },
        color: METHOD_COLOR,
      },
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
              mark: { type: 'line', point: true },
              encoding: {
                x: { field: 'confidence', type: 'quantitative' },
                y: { field: 'accuracy', type: 'quantitative' },
                color: { field: 'series', type: 'nominal', title: 'model' },
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
          mark: { type: 'bar', opacity: 0.4 },
          encoding: {
            x: {
              field: 'lower',
              type: 'quantitative',
              title: 'confidence (bins)',
              scale: { domain: [0, 1] },
            },
            x2: { field: 'upper' },
            y: { field: 'count', type: 'quantitative', title: 'examples', stack: null },
            y2: { datum: 0 },
            color: { field: 'series', type: 'nominal', title: 'model' },
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

/** Loss (and error) along the found curve and along the straight line between two models. */
export function curveChart(
  points: { path: string; t: number; metric: string; value: number }[],
): Chart {
  return {
    name: 'curve',
    title: 'Mode connectivity',
    spec: {
      ...base('Along the curve vs the straight line'),
      data: { values: points },
      mark: { type: 'line', point: { size: 18 } },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 't (0 = model A, 1 = model B)' },
        y: { field: 'value', type: 'quantitative', title: 'value' },
        color: { field: 'path', type: 'nominal', title: 'path' },
        strokeDash: {
          field: 'metric',
          type: 'nominal',
          title: 'metric (line style)',
          // vega draws the dash symbols without a stroke colour unless told.
          legend: { encode: { symbols: { update: { stroke: { value: '#444' } } } } },
        },
      },
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
