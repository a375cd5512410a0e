import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Member, MemberOutput, MemberOutputs } from './members.js';

type Layer = LayersModel['layers'][number];

/**
 * Element-wise activations a stacked forward pass applies itself (the names tfjs-layers gives
 * them in a layer's config); a member using any other runs on its own.
 */
const ACTIVATIONS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  linear: (x) => x,
  relu: (x) => tf.relu(x),
  relu6: (x) => tf.relu6(x),
  elu: (x) => tf.elu(x),
  selu: (x) => tf.selu(x),
  tanh: (x) => tf.tanh(x),
  sigmoid: (x) => tf.sigmoid(x),
  softplus: (x) => tf.softplus(x),
  softsign: (x) => tf.div(x, tf.add(tf.abs(x), 1)),
  softmax: (x) => tf.softmax(x),
};

/** One step of the members' shared architecture, as the stacked pass runs it. */
type Step =
  | { kind: 'flatten' }
  | { kind: 'dense'; layer: number; useBias: boolean; foldedNorm?: number }
  | { kind: 'norm'; layer: number }
  | { kind: 'activation'; name: string };

/** What a member layer's config says that the stacked pass needs; `undefined`: unsupported. */
function stepOf(layer: Layer, index: number, rank: number): Step | Step[] | undefined {
  const config = layer.getConfig() as Record<string, unknown>;
  switch (layer.getClassName()) {
    case 'Flatten':
      return { kind: 'flatten' };
    case 'Dropout':
      return []; // the identity outside training
    case 'Dense': {
      const activation = String(config.activation);
      if (rank !== 2 || !(activation in ACTIVATIONS)) return undefined;
      const dense: Step = { kind: 'dense', layer: index, useBias: config.useBias !== false };
      return activation === 'linear' ? dense : [dense, { kind: 'activation', name: activation }];
    }
    case 'BatchNormalization': {
      const axis = config.axis;
      return axis === -1 || axis === rank - 1 ? { kind: 'norm', layer: index } : undefined;
    }
    case 'Activation':
      return String(config.activation) in ACTIVATIONS
        ? { kind: 'activation', name: String(config.activation) }
        : undefined;
    case 'ReLU':
      return config.maxValue == null ? { kind: 'activation', name: 'relu' } : undefined;
    case 'Softmax':
      return config.axis === -1 || config.axis === rank - 1
        ? { kind: 'activation', name: 'softmax' }
        : undefined;
    default:
      return undefined;
  }
}

/** The layers of a single-input, single-output chain (no branches), input layer left out. */
function chainOf(model: LayersModel): Layer[] | undefined {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return undefined;
  const layers = (model.layers as Layer[]).filter((l) => l.getClassName() !== 'InputLayer');
  for (const [i, layer] of layers.entries()) {
    const nodes = layer.inboundNodes;
    if (nodes.length !== 1 || nodes[0]?.inboundLayers.length !== 1) return undefined;
    const from = nodes[0].inboundLayers[0] as Layer;
    const expected = i === 0 ? 'InputLayer' : undefined;
    if (expected ? from.getClassName() !== expected : from !== layers[i - 1]) return undefined;
  }
  const last = layers.at(-1);
  return last !== undefined && model.outputs[0]?.sourceLayer === last ? layers : undefined;
}

/** Config fields that do not change what a trained layer computes. */
const IRRELEVANT = /^(name|trainable)$|(Initializer|Regularizer|Constraint)$/;

/**
 * What must match between members: each layer's class, the config fields that shape its
 * computation (not its name or initializers, which differ between members), its weight shapes.
 */
function architectureOf(layers: Layer[]): string {
  return JSON.stringify(
    layers.map((l) => {
      const config = Object.entries(l.getConfig()).filter(([key]) => !IRRELEVANT.test(key));
      return [l.getClassName(), config, l.getWeights().map((w) => w.shape)];
    }),
  );
}

/**
 * The steps of a chain of supported layers over `[batch, features…]` inputs, a batch
 * normalization right after a linear Dense folded into it; `undefined` if a layer is unsupported.
 */
function planOf(layers: Layer[], inputRank: number): Step[] | undefined {
  const steps: Step[] = [];
  let rank = inputRank;
  for (const [index, layer] of layers.entries()) {
    const step = stepOf(layer, index, rank);
    if (step === undefined) return undefined;
    for (const s of Array.isArray(step) ? step : [step]) {
      const previous = steps.at(-1);
      if (s.kind === 'norm' && previous?.kind === 'dense' && previous.foldedNorm === undefined) {
        previous.foldedNorm = s.layer;
        continue;
      }
      if (s.kind === 'flatten') rank = 2;
      steps.push(s);
    }
  }
  // Until the first Dense every member computes the same thing: only reshapes may come first.
  const firstDense = steps.findIndex((s) => s.kind === 'dense');
  if (firstDense < 0 || steps.slice(0, firstDense).some((s) => s.kind !== 'flatten')) {
    return undefined;
  }
  return rank === 2 ? steps : undefined;
}

/** A batch normalization's inference as `x · scale + shift` (per feature), from its weights. */
function normAffine(layer: Layer): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
  const config = layer.getConfig() as { center?: boolean; scale?: boolean; epsilon?: number };
  const weights = layer.getWeights();
  let i = 0;
  const gamma = config.scale === false ? undefined : weights[i++];
  const beta = config.center === false ? undefined : weights[i++];
  const mean = weights[i++] as tf.Tensor1D;
  const variance = weights[i++] as tf.Tensor1D;
  const inverse = tf.rsqrt(tf.add(variance, config.epsilon ?? 1e-3));
  const scale = (gamma === undefined ? inverse : tf.mul(inverse, gamma)) as tf.Tensor1D;
  const shifted = tf.neg(tf.mul(mean, scale));
  return { scale, shift: (beta === undefined ? shifted : tf.add(shifted, beta)) as tf.Tensor1D };
}

/** The stacked parameters of one step: `[M, in, out]` kernels, `[M, 1, out]` biases and scales. */
type StackedParams = {
  kernel?: tf.Tensor;
  bias?: tf.Tensor;
  scale?: tf.Tensor;
  shift?: tf.Tensor;
};

/**
 * Members of one architecture run as one model: their Dense kernels stacked along a member axis,
 * so that each layer is one batched matrix product for all M members instead of M products
 * (the first layer, whose input every member shares, one product with the M kernels side by
 * side), and each batch normalization folded into the Dense before it (`W·s`, `(b − μ)·s + β`
 * with `s = γ/√(σ² + ε)`) or applied as one scale and shift. Same outputs as each member alone,
 * to float rounding. Supported: chains of Flatten, Dense (on `[batch, features]`), batch
 * normalization over the last axis, Dropout, and element-wise activations (ReLU, softmax, tanh,
 * sigmoid, …). Anything else — convolutions, branches, other layers — is not stackable:
 * {@link StackedMembers.of} returns `undefined` and the members run one by one.
 */
export class StackedMembers {
  private params: StackedParams[] | undefined;

  private constructor(
    private readonly members: readonly Member[],
    private readonly chains: Layer[][],
    private readonly steps: Step[],
    private readonly output: MemberOutput,
  ) {}

  /**
   * The stacked form of `members`, or `undefined` when they cannot run as one: fewer than two,
   * architectures that differ or use unsupported layers, or a logits function of the caller's.
   */
  static of(
    members: readonly Member[],
    output: MemberOutput,
    customLogits: boolean,
  ): StackedMembers | undefined {
    if (members.length < 2 || customLogits) return undefined;
    const chains: Layer[][] = [];
    for (const member of members) {
      const chain = chainOf(member.model);
      if (chain === undefined) return undefined;
      chains.push(chain);
    }
    const reference = architectureOf(chains[0] as Layer[]);
    if (chains.some((c) => architectureOf(c) !== reference)) return undefined;
    const inputRank = (members[0] as Member).model.inputs[0]?.shape.length ?? 0;
    const steps = planOf(chains[0] as Layer[], inputRank);
    if (steps === undefined) return undefined;
    return new StackedMembers(members, chains, steps, output);
  }

  /**
   * Whether this pass can give the logits a `'logit-mean'` ensemble needs: the members' output
   * (`output: 'logits'`), or the input of their final softmax.
   */
  get givesLogits(): boolean {
    const last = this.steps.at(-1);
    return this.output === 'logits' || (last?.kind === 'activation' && last.name === 'softmax');
  }

  /**
   * Stacks the members' current weights (call once per `predict`, before the batches; weights
   * changed afterwards are not seen until the next {@link prepare}). Frees the previous stack.
   */
  prepare(): void {
    this.release();
    this.params = tf.tidy(() => {
      const stacked: StackedParams[] = [];
      let shared = true;
      for (const step of this.steps) {
        if (step.kind === 'dense') {
          stacked.push(this.denseParams(step, shared));
          shared = false;
        } else if (step.kind === 'norm') {
          const affine = this.chains.map((c) => normAffine(c[step.layer] as Layer));
          stacked.push({
            scale: tf.expandDims(tf.stack(affine.map((a) => a.scale)), 1),
            shift: tf.expandDims(tf.stack(affine.map((a) => a.shift)), 1),
          });
        } else {
          stacked.push({});
        }
      }
      return stacked;
    });
  }

  /**
   * A Dense step's kernels and biases with the batch normalization after it folded in. The first
   * Dense (`shared`) takes `[in, M·out]` (the members side by side) and `[M·out]`; later ones
   * `[M, in, out]` and `[M, 1, out]`.
   */
  private denseParams(step: Extract<Step, { kind: 'dense' }>, shared: boolean): StackedParams {
    const kernels: tf.Tensor2D[] = [];
    const biases: tf.Tensor1D[] = [];
    for (const chain of this.chains) {
      const weights = (chain[step.layer] as Layer).getWeights();
      let kernel = weights[0] as tf.Tensor2D;
      let bias = step.useBias ? (weights[1] as tf.Tensor1D) : undefined;
      if (step.foldedNorm !== undefined) {
        const { scale, shift } = normAffine(chain[step.foldedNorm] as Layer);
        kernel = tf.mul(kernel, scale);
        bias = (bias === undefined ? shift : tf.add(tf.mul(bias, scale), shift)) as tf.Tensor1D;
      }
      kernels.push(kernel);
      biases.push(bias ?? tf.zeros([kernel.shape[1]]));
    }
    if (shared) return { kernel: tf.concat(kernels, 1), bias: tf.concat(biases) };
    return { kernel: tf.stack(kernels), bias: tf.expandDims(tf.stack(biases), 1) };
  }

  /**
   * One batch through every member: each member's outputs (`[batch, classes]`), as
   * `MemberRunner.run` gives them one member at a time. Call inside `tf.tidy`, after
   * {@link prepare}.
   */
  run(xs: tf.Tensor, want: { probs: boolean; logits: boolean }): MemberOutputs[] {
    const params = this.params;
    if (params === undefined) throw new Error('StackedMembers.run before prepare()');
    const m = this.members.length;
    const batch = xs.shape[0] as number;
    let h: tf.Tensor = xs;
    let logits: tf.Tensor | undefined;
    let probs: tf.Tensor | undefined;
    let shared = true;
    for (const [i, step] of this.steps.entries()) {
      const p = params[i] as StackedParams;
      const last = i === this.steps.length - 1;
      switch (step.kind) {
        case 'flatten':
          h = shared ? tf.reshape(h, [batch, -1]) : h;
          break;
        case 'dense':
          if (shared) {
            // [batch, in] · [in, M·out] → [batch, M, out] → [M, batch, out]
            const z = tf.add(
              tf.matMul(h as tf.Tensor2D, p.kernel as tf.Tensor2D),
              p.bias as tf.Tensor,
            );
            h = tf.transpose(tf.reshape(z, [batch, m, -1]), [1, 0, 2]);
            shared = false;
          } else {
            h = tf.add(tf.matMul(h as tf.Tensor3D, p.kernel as tf.Tensor3D), p.bias as tf.Tensor);
          }
          break;
        case 'norm':
          h = tf.add(tf.mul(h, p.scale as tf.Tensor), p.shift as tf.Tensor);
          break;
        case 'activation':
          if (last && step.name === 'softmax') {
            logits = h;
            probs = tf.softmax(h);
            h = probs;
          } else {
            h = (ACTIVATIONS[step.name] as (x: tf.Tensor) => tf.Tensor)(h);
          }
          break;
      }
    }
    if (this.output === 'logits') {
      logits = h;
      probs = want.probs ? tf.softmax(h) : undefined;
    } else {
      probs = h;
    }
    const split = (t: tf.Tensor | undefined) => (t === undefined ? undefined : tf.unstack(t, 0));
    const probsOf = want.probs ? split(probs) : undefined;
    const logitsOf = want.logits ? split(logits) : undefined;
    return this.members.map((_, k) => ({
      ...(probsOf ? { probs: probsOf[k] as tf.Tensor2D } : {}),
      ...(logitsOf ? { logits: logitsOf[k] as tf.Tensor2D } : {}),
    }));
  }

  /** Frees the stacked weights. */
  release(): void {
    if (this.params === undefined) return;
    for (const p of this.params) tf.dispose(Object.values(p) as tf.Tensor[]);
    this.params = undefined;
  }
}
