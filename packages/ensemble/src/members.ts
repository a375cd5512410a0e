import type { Inputs } from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { LogitsUnavailableError, MemberShapeMismatchError } from './errors.js';
import type { ListedSnapshot } from './select.js';

/**
 * Computes a member's pre-softmax outputs `[batch, classes]` for `combine: 'logit-mean'`, for
 * models whose logits onerun cannot find by itself. Called inside `tf.tidy`.
 */
export type LogitsFunction = (model: LayersModel, x: Inputs) => tf.Tensor;

/** What the members' (single) output holds: probabilities (default) or logits. */
export type MemberOutput = 'probabilities' | 'logits';

/** One member as handed out while iterating an ensemble. */
export interface Member {
  index: number;
  /** Snapshot id, for members loaded from a store. */
  id?: string;
  model: LayersModel;
}

/** Where an ensemble's members come from: models held in memory, or a store read one at a time. */
export interface MemberSource {
  readonly size: number;
  readonly ids: readonly string[] | undefined;
  readonly streaming: boolean;
  /**
   * Yields the members in order, in groups that may be held at once: every member in one group
   * for models in memory, one member per group when streaming (disposed as soon as the next
   * group is asked for).
   */
  groups(): AsyncGenerator<Member[]>;
  dispose(): void;
}

/** How error messages name a member. */
export function memberName(member: Member): string {
  const id = member.id === undefined ? '' : ` (snapshot ${JSON.stringify(member.id)})`;
  return `member ${member.index}${id}, model ${JSON.stringify(member.model.name)},`;
}

function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
}

/**
 * Remembers the first member's input and output shapes and checks every later member against
 * them. A member must have one output of rank 2 (`[batch, classes]`).
 */
export class ShapeChecker {
  private reference: { inputs: string; output: string; member: number } | undefined;

  check(member: Member): void {
    const name = memberName(member);
    const { model } = member;
    const outputs = model.outputs.map((o) => shapeText(o.shape));
    const first = model.outputs[0];
    if (model.outputs.length !== 1 || !first || first.shape.length !== 2) {
      throw new MemberShapeMismatchError(
        member.index,
        name,
        'output',
        outputs.join(' and ') || 'none',
        'one output of shape [batch, classes]',
      );
    }
    const inputs = model.inputs.map((i) => shapeText(i.shape)).join(' and ');
    const output = shapeText(first.shape);
    const ref = this.reference;
    if (!ref) {
      this.reference = { inputs, output, member: member.index };
      return;
    }
    if (inputs !== ref.inputs) {
      throw new MemberShapeMismatchError(
        member.index,
        name,
        'input',
        inputs,
        `${ref.inputs}, as member ${ref.member} has`,
      );
    }
    if (output !== ref.output) {
      throw new MemberShapeMismatchError(
        member.index,
        name,
        'output',
        output,
        `${ref.output}, as member ${ref.member} has`,
      );
    }
  }
}

/** Members given as models: the caller keeps them (unless `owned`, for models loaded by onerun). */
export class ModelSource implements MemberSource {
  readonly streaming = false;
  readonly size: number;

  constructor(
    private readonly models: readonly LayersModel[],
    readonly ids: readonly string[] | undefined,
    private readonly owned: boolean,
  ) {
    this.size = models.length;
  }

  /** The members, in order. */
  list(): Member[] {
    return this.models.map((model, index) => {
      const id = this.ids?.[index];
      return id === undefined ? { index, model } : { index, id, model };
    });
  }

  async *groups(): AsyncGenerator<Member[]> {
    yield this.list();
  }

  dispose(): void {
    if (this.owned) for (const model of this.models) model.dispose();
  }
}

/**
 * What an ensemble needs of a snapshot store: its ids in order and a way to load one. A
 * `@onerun/snapshots` `SnapshotStore` is one; so is anything with these two methods.
 */
export interface SnapshotSource {
  /** Snapshots oldest first; `tags.kind`, where set, is what `fromStore`'s `kind` selects by. */
  list(): Promise<readonly ListedSnapshot[]>;
  load(id: string): Promise<LayersModel>;
}

/** Members read from a store one at a time; each is disposed before the next loads. */
export class StreamSource implements MemberSource {
  readonly streaming = true;
  readonly size: number;

  constructor(
    private readonly store: SnapshotSource,
    readonly ids: readonly string[],
  ) {
    this.size = ids.length;
  }

  async *groups(): AsyncGenerator<Member[]> {
    for (const [index, id] of this.ids.entries()) {
      const model = await this.store.load(id);
      try {
        yield [{ index, id, model }];
      } finally {
        model.dispose();
      }
    }
  }

  dispose(): void {}
}

/** What one forward pass of a member returns. */
export interface MemberOutputs {
  probs?: tf.Tensor2D;
  logits?: tf.Tensor2D;
}

/**
 * Runs members forward. Probabilities come from the model's output (or its softmax, for
 * `output: 'logits'`); logits from the model's output (`output: 'logits'`), the `logits`
 * function, or else the input of the final softmax, read in the same forward pass.
 */
export class MemberRunner {
  constructor(
    private readonly output: MemberOutput,
    private readonly logitsFunction: LogitsFunction | undefined,
  ) {}

  /** Forward pass of one batch; call inside `tf.tidy`. */
  run(member: Member, xs: Inputs, want: { probs: boolean; logits: boolean }): MemberOutputs {
    const { model } = member;
    const outputName = (model.outputs[0] as SymbolicTensor).name;
    if (this.output === 'logits') {
      const logits = this.checked(member, model.execute(xs, outputName) as tf.Tensor, 'logits');
      return { logits, ...(want.probs ? { probs: tf.softmax(logits) } : {}) };
    }
    if (!want.logits) {
      return { probs: this.checked(member, model.execute(xs, outputName) as tf.Tensor, 'output') };
    }
    if (this.logitsFunction) {
      const logits = this.checked(member, this.logitsFunction(model, xs), 'logits');
      if (!want.probs) return { logits };
      const probs = this.checked(member, model.execute(xs, outputName) as tf.Tensor, 'output');
      return { logits, probs };
    }
    const head = softmaxHead(member);
    let pre: tf.Tensor;
    let probs: tf.Tensor | undefined;
    if (head.modelInput !== undefined) {
      // The softmax layer reads a model input directly (a one-layer model): nothing to fetch.
      pre = (Array.isArray(xs) ? xs[head.modelInput] : xs) as tf.Tensor;
      if (want.probs) probs = model.execute(xs, outputName) as tf.Tensor;
    } else {
      const names = want.probs ? [head.inputName, outputName] : [head.inputName];
      [pre, probs] = model.execute(xs, names) as [tf.Tensor, tf.Tensor | undefined];
    }
    const logits = this.checked(member, head.toLogits(pre), 'logits');
    return probs ? { logits, probs: this.checked(member, probs, 'output') } : { logits };
  }

  private checked(member: Member, t: tf.Tensor, what: string): tf.Tensor2D {
    const classes = (member.model.outputs[0] as SymbolicTensor).shape[1];
    if (t.rank !== 2 || (classes != null && t.shape[1] !== classes)) {
      throw new MemberShapeMismatchError(
        member.index,
        memberName(member),
        'output',
        `${shapeText(t.shape)} (its ${what})`,
        `[batch, ${classes}]`,
      );
    }
    return t as tf.Tensor2D;
  }
}

interface SoftmaxHead {
  /** Symbolic tensor to fetch in the forward pass: the input of the final softmax. */
  inputName: string;
  /** Set when that tensor is the model's own input number `modelInput`. */
  modelInput: number | undefined;
  /** From that tensor to the logits (identity, or the Dense layer's affine map). */
  toLogits(pre: tf.Tensor): tf.Tensor;
}

const heads = new WeakMap<LayersModel, SoftmaxHead>();

/**
 * Finds the final softmax of a member and how to read its pre-activation (cached per model; the
 * Dense weights are read at each call, so later `setWeights` is seen).
 */
export function softmaxHead(member: Member): SoftmaxHead {
  const cached = heads.get(member.model);
  if (cached) return cached;
  const head = findSoftmaxHead(member);
  heads.set(member.model, head);
  return head;
}

function findSoftmaxHead(member: Member): SoftmaxHead {
  const name = memberName(member);
  const layer = (member.model.outputs[0] as SymbolicTensor).sourceLayer;
  const kind = layer.getClassName();
  const config = layer.getConfig();
  let input: SymbolicTensor | SymbolicTensor[];
  try {
    input = layer.input;
  } catch {
    input = [];
  }
  if (Array.isArray(input)) {
    throw new LogitsUnavailableError(
      member.index,
      name,
      `its output layer ${JSON.stringify(layer.name)} has more than one input`,
    );
  }
  const lastAxis = (member.model.outputs[0] as SymbolicTensor).shape.length - 1;
  const index = member.model.inputs.indexOf(input);
  const source = { inputName: input.name, modelInput: index < 0 ? undefined : index };
  if (kind === 'Softmax' && (config.axis === -1 || config.axis === lastAxis)) {
    return { ...source, toLogits: (pre) => pre };
  }
  if (kind === 'Activation' && config.activation === 'softmax') {
    return { ...source, toLogits: (pre) => pre };
  }
  if (kind === 'Dense' && config.activation === 'softmax') {
    if (input.shape.length !== 2) {
      throw new LogitsUnavailableError(
        member.index,
        name,
        `its Dense output layer ${JSON.stringify(layer.name)} takes a rank-${input.shape.length} input, not [batch, features]`,
      );
    }
    return {
      ...source,
      toLogits: (pre) => {
        // Dense weights are [kernel, bias?]; getWeights returns the live variables (no copies).
        const [kernel, bias] = layer.getWeights();
        const z = tf.matMul(pre as tf.Tensor2D, kernel as tf.Tensor2D);
        return config.useBias === false || !bias ? z : tf.add(z, bias);
      },
    };
  }
  const activation = typeof config.activation === 'string' ? ` '${config.activation}'` : '';
  throw new LogitsUnavailableError(
    member.index,
    name,
    `its output layer ${JSON.stringify(layer.name)} is a ${kind}${activation}, not a softmax`,
  );
}
