import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../common/errors.js';
import { type Arch, CELL_NODES, type OpCode } from '../search/arch.types.js';
import type { CellType } from './config.js';
import type { LifNeuron } from './lif.js';
import { buildCellOp, type CellOp, type ForwardContext, type ParamStore } from './ops.js';

interface Edge {
  from: number;
  to: number;
  op: CellOp;
}

/** Writes a matrix the SNASNet way ('0302 0030 3003 0000') for messages. */
export function archText(arch: Arch): string {
  return arch.map((row) => row.join('')).join(' ');
}

/**
 * A searched cell on feature maps of per-sample shape [H, W, C]. Node 0 is the cell input, node 3 its
 * output; a node's value is the analog sum of its incoming edges. In a backward cell, arch[i][j] with
 * i > j feeds node i at step t-1 into node j at step t (SNASNet's Neuronal_Cell_backward).
 * Only the edges of the (already pruned) matrix are built; nothing else.
 */
export class Cell {
  readonly forwardEdges: readonly Edge[];
  readonly feedbackEdges: readonly Edge[];
  readonly lifs: readonly LifNeuron[];
  /** Feedback into each node for the coming step, computed from the node values of the last step. */
  private feedback: (tf.Tensor4D | null)[] = new Array(CELL_NODES).fill(null);
  /**
   * By node, the LIF layers of the spiking convolutions leaving it. They see the same input with the
   * same neuron, so they fire alike: run() computes a node's spikes once, with the first of them.
   */
  private readonly nodeLifs: readonly (readonly LifNeuron[])[];

  constructor(
    arch: Arch,
    cellType: CellType,
    store: ParamStore,
    name: string,
    shape: [number, number, number],
  ) {
    checkMatrix(arch);
    const forward: Edge[] = [];
    const feedback: Edge[] = [];
    for (let i = 0; i < CELL_NODES; i++) {
      for (let j = 0; j < CELL_NODES; j++) {
        const code = arch[i]?.[j] as OpCode;
        if (code === 0 || i === j) continue;
        if (i > j && cellType === 'forward') {
          throw new InputError(
            'arch',
            `${archText(arch)} has a feedback edge ${i}->${j} in a forward cell`,
            'forward cells use only entries above the diagonal',
          );
        }
        const edge = { from: i, to: j, op: buildCellOp(code, store, `${name}.${i}${j}`, shape) };
        (i < j ? forward : feedback).push(edge);
      }
    }
    this.forwardEdges = forward;
    this.feedbackEdges = feedback;
    this.lifs = [...forward, ...feedback].flatMap((e) => (e.op.lif ? [e.op.lif] : []));
    this.nodeLifs = Array.from({ length: CELL_NODES }, (_, i) =>
      [...forward, ...feedback].flatMap((e) => (e.from === i && e.op.lif ? [e.op.lif] : [])),
    );
  }

  /**
   * One timestep. `computeFeedback` false skips the feedback of the last timestep, which no later step
   * reads; scoring keeps it because SNASNet's SAHD hooks count those LIF calls too. Each edge runs in a
   * tf.tidy of its own, so a step holds the node values and one edge's intermediates at a time; the
   * feedback for the next step is the cell's state, kept until that step (or reset) disposes it.
   */
  step(input: tf.Tensor4D, ctx: ForwardContext, computeFeedback: boolean): tf.Tensor4D {
    const apply = (edge: Edge, x: tf.Tensor4D) => tf.tidy(() => edge.op.apply(x, ctx));
    // Last step's feedback moves into this step's scope (clones share the data), so a node whose only
    // term it is stays valid until the step's tidy ends.
    const fed = this.feedback.map((t) => (t === null ? null : tf.clone(t)));
    this.disposeFeedback();
    const nodes: tf.Tensor4D[] = [];
    for (let j = 0; j < CELL_NODES; j++) {
      const terms: tf.Tensor4D[] = j === 0 ? [input] : [];
      for (const edge of this.forwardEdges) {
        if (edge.to === j) terms.push(apply(edge, nodes[edge.from] as tf.Tensor4D));
      }
      const feedback = fed[j];
      if (feedback) terms.push(feedback);
      nodes.push(sum(terms, input));
    }
    if (computeFeedback) {
      for (const edge of this.feedbackEdges) {
        const contribution = apply(edge, nodes[edge.from] as tf.Tensor4D);
        const current = this.feedback[edge.to];
        // A skip edge's contribution is a node value (or the cell input): the clone is the cell's own.
        this.feedback[edge.to] = tf.keep(
          current ? tf.add<tf.Tensor4D>(current, contribution) : tf.clone(contribution),
        );
        current?.dispose();
      }
    }
    return nodes[CELL_NODES - 1] as tf.Tensor4D;
  }

  /**
   * All T timesteps, on the input stacked t-major [T*B, H, W, C]; returns node 3 the same way. A cell
   * without feedback runs each edge once on the whole stack (spikingjelly's multi-step mode). Feedback
   * needs the node values of step t-1 before step t can start, so a cell with feedback steps through
   * time. Either way each node's spikes are computed once for all the spiking convolutions leaving it,
   * and `ctx.observe` sees them under each of those edges' LIF names, as SNASNet's per-edge hooks do.
   * Starts from rest and leaves no state.
   */
  run(input: tf.Tensor4D, ctx: ForwardContext, steps: number): tf.Tensor4D {
    if (this.feedbackEdges.length === 0) {
      const spikesOf = oncePerNode((i, value) => {
        const [first, ...twins] = this.nodeLifs[i] as LifNeuron[];
        return (first as LifNeuron).multiStep(value, steps, ctx.observe, twins) as tf.Tensor4D;
      });
      return this.nodeValues(input, null, ctx, steps, spikesOf)[CELL_NODES - 1] as tf.Tensor4D;
    }
    const outputs: tf.Tensor4D[] = [];
    let fed: (tf.Tensor4D | null)[] = new Array(CELL_NODES).fill(null);
    try {
      for (const [t, x] of (steps === 1 ? [input] : tf.split(input, steps)).entries()) {
        // As in step(): the last step's feedback is read by no later step, but SNASNet's hooks count it.
        const withFeedback = t < steps - 1 || ctx.observe !== undefined;
        // While stepping, a node's LIF state is that of the first of its LIF layers, kept across steps.
        const spikesOf = oncePerNode((i, value) => {
          const [first, ...twins] = this.nodeLifs[i] as LifNeuron[];
          return (first as LifNeuron).step(value, ctx.observe, twins) as tf.Tensor4D;
        });
        const nodes = this.nodeValues(x as tf.Tensor4D, fed, ctx, 1, spikesOf);
        outputs.push(nodes[CELL_NODES - 1] as tf.Tensor4D);
        fed = new Array(CELL_NODES).fill(null);
        if (!withFeedback) continue;
        for (const edge of this.feedbackEdges) {
          const contribution = edgeOutput(edge, nodes, ctx, 1, spikesOf);
          const current = fed[edge.to];
          fed[edge.to] = current ? tf.add<tf.Tensor4D>(current, contribution) : contribution;
        }
      }
    } finally {
      for (const lifs of this.nodeLifs) lifs[0]?.reset();
    }
    return steps === 1 ? (outputs[0] as tf.Tensor4D) : tf.concat(outputs);
  }

  /** Node values from the cell input and the feedback into each node (null: none), by forward edges. */
  private nodeValues(
    input: tf.Tensor4D,
    fed: readonly (tf.Tensor4D | null)[] | null,
    ctx: ForwardContext,
    steps: number,
    spikesOf: SpikesOf,
  ): tf.Tensor4D[] {
    const nodes: tf.Tensor4D[] = [];
    for (let j = 0; j < CELL_NODES; j++) {
      const terms: tf.Tensor4D[] = j === 0 ? [input] : [];
      for (const edge of this.forwardEdges) {
        if (edge.to === j) terms.push(edgeOutput(edge, nodes, ctx, steps, spikesOf));
      }
      const feedback = fed?.[j];
      if (feedback) terms.push(feedback);
      nodes.push(sum(terms, input));
    }
    return nodes;
  }

  reset(): void {
    this.disposeFeedback();
    for (const lif of this.lifs) lif.reset();
  }

  /** The feedback carried into the next step, by target node (null where none). */
  carriedFeedback(): (tf.Tensor4D | null)[] {
    return [...this.feedback];
  }

  /** Sets the carried feedback (recomputing a step from a checkpoint); the cell owns the tensors after. */
  restoreFeedback(feedback: readonly (tf.Tensor4D | null)[]): void {
    this.feedback = [...feedback];
  }

  private disposeFeedback(): void {
    tf.dispose(this.feedback.filter((t) => t !== null));
    this.feedback = new Array(CELL_NODES).fill(null);
  }
}

type SpikesOf = (node: number, value: tf.Tensor4D) => tf.Tensor4D;

/** `compute` memoised by node: a node's spikes once, however many spiking convolutions leave it. */
function oncePerNode(compute: SpikesOf): SpikesOf {
  const spikes = new Map<number, tf.Tensor4D>();
  return (node, value) => {
    let s = spikes.get(node);
    if (s === undefined) {
      s = compute(node, value);
      spikes.set(node, s);
    }
    return s;
  };
}

/**
 * An edge's output from the node values so far; `spikesOf` gives its source node's spikes.
 */
function edgeOutput(
  edge: Edge,
  nodes: readonly tf.Tensor4D[],
  ctx: ForwardContext,
  steps: number,
  spikesOf: SpikesOf,
): tf.Tensor4D {
  const source = nodes[edge.from] as tf.Tensor4D;
  return edge.op.afterLif(edge.op.lif ? spikesOf(edge.from, source) : source, ctx, steps);
}

/** Sum of a node's incoming terms; a node with none (e.g. only feedback, at t = 0) holds zeros. */
function sum(terms: tf.Tensor4D[], like: tf.Tensor4D): tf.Tensor4D {
  if (terms.length === 0) return tf.zerosLike(like);
  if (terms.length === 1) return terms[0] as tf.Tensor4D;
  return tf.addN(terms);
}

function checkMatrix(arch: Arch): void {
  const ok =
    arch.length === CELL_NODES &&
    arch.every(
      (row) => row.length === CELL_NODES && row.every((c) => Number.isInteger(c) && c >= 0 && c <= 4),
    );
  if (!ok) throw new InputError('arch', 'is not a 4x4 matrix of operation codes', 'codes 0-4, 4 rows of 4');
  for (let i = 0; i < CELL_NODES; i++) {
    if (arch[i]?.[i] !== 0)
      throw new InputError('arch', `diagonal entry ${i}${i} must be 0`, '0 on the diagonal');
    for (let j = i + 1; j < CELL_NODES; j++) {
      if (arch[i]?.[j] !== 0 && arch[j]?.[i] !== 0) {
        throw new InputError(
          'arch',
          `nodes ${i} and ${j} are connected both ways`,
          'one direction per node pair',
        );
      }
    }
  }
}
