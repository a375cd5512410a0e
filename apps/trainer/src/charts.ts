import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { compile } from 'vega-lite';

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
    config: { font: 'sans-serif', view: { stroke: '#ddd' } },
  };
}

/** One learning-rate value of a method at a step (sampled). */
export interface LrPoint {
  series: string;
  step: number;
  lr: number;
}

/** Learning rate per update with the collection points (snapshots or averages) marked. */
export function lrChart(points: LrPoint[], collections: LrPoint[]): Chart {
  const color = { field: 'series', type: 'nominal', title: 'method' } as const;
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
            x: { field: 'step', type: 'quantitative', title: 'optimizer update' },
            y: { field: 'lr', type: 'quantitative', title: 'learning rate' },
            color,
          },
        },
        {
          data: { values: collections },
          mark: { type: 'point', filled: true, size: 45 },
          encoding: {
            x: { field: 'step', type: 'quantitative' },
            y: { field: 'lr', type: 'quantitative' },
            color,
            shape: { field: 'series', type: 'nominal', legend: null },
          },
        },
      ],
    } as TopLevelSpec,
  };
}

/** Training loss (window means) per update. */
export function lossChart(points: { series: string; step: number; loss: number }[]): Chart {
  return {
    name: 'training-loss',
    title: 'Training loss',
    spec: {
      ...base('Training loss (cross-entropy, window means)'),
      data: { values: points },
      mark: { type: 'line', strokeWidth: 1.2 },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'optimizer update' },
        y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { type: 'log' } },
        color: { field: 'series', type: 'nominal', title: 'method' },
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
        color: { field: 'series', type: 'nominal', title: 'method' },
      },
    } as TopLevelSpec,
  };
}

/** Accuracy per confidence bin against the diagonal of perfect calibration. */
export function reliabilityChart(
  points: { series: string; confidence: number; accuracy: number; count: number }[],
): Chart {
  return {
    name: 'reliability',
    title: 'Reliability diagram',
    spec: {
      ...base('Reliability diagram (test set)'),
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
            x: { field: 'x', type: 'quantitative', title: 'confidence', scale: { domain: [0, 1] } },
            y: { field: 'y', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } },
          },
        },
        {
          data: { values: points },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'confidence', type: 'quantitative' },
            y: { field: 'accuracy', type: 'quantitative' },
            color: { field: 'series', type: 'nominal', title: 'model' },
            tooltip: [{ field: 'count', type: 'quantitative' }],
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
        strokeDash: { field: 'metric', type: 'nominal', title: 'metric' },
      },
    } as TopLevelSpec,
  };
}

/** Renders a chart to standalone SVG text (vega-lite → vega → SVG; no browser or canvas). */
export async function renderSvg(chart: Chart): Promise<string> {
  const { spec } = compile(chart.spec);
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
