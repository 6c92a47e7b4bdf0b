/**
 * The memory a deployed network takes on a microcontroller, from the matrix and config alone: the RAM of
 * one image's inference (membrane potentials and activation buffers) and the flash of its constant data.
 * The C export (deploy/c.ts) declares exactly these buffers, in this order, as one static struct for the
 * RAM and one static const struct for the flash, so `size` of its object file measures these figures plus
 * the code's own scalars (two size_t constants, float literals) and the struct's tail padding (< 4 bytes).
 *
 * RAM, per image (float32 unless said otherwise):
 *   stem      the stem's output, computed once and read at every timestep          H1 W1 C
 *   cell k    one membrane per node with an outgoing conv edge: edges that leave the same node see the
 *             same input and fire identically, so they share it; one value buffer per node 1..3 with
 *             edges, node 0 only in cell 1 with feedback into it (cell 2 adds feedback into its input in
 *             place); one carried feedback buffer per node that receives feedback     H W C' each
 *   down      the down block's membrane; cell 2's input (the pooled conv output)   H1 W1 C; H2 W2 2C
 *   head      the head's membrane; the hidden layer's membrane; the votes          H2 W2 2C; hidden; K P
 *   scratch   per-output-channel accumulators (int32 or float32), then one byte per neuron for the spikes
 *             of the LIF layer being read                                          max(2C, hidden, K P); max
 * Flash: each conv's codes (float32 at 32 bits, int8, or 6- and 4-bit codes packed bit after bit) with its per-channel scale and
 * bias (BatchNorm folded in at its running statistics); the two BatchNorms before a LIF (mean, factor,
 * shift per channel); the classifier's codes (with per-output scales below 32 bits) and the output bias; a 256-entry normalisation
 * table per input channel. Floats come first, bytes last, so the only padding is at the end.
 */

import { type Arch, CELL_NODES, type OpCode } from '../../snn/cell-matrix.js';
import type { NetConfig } from '../../snn/config.js';
import { archEdges } from './arch.js';
import { spatialSizes } from './memory.js';

/** Weight widths a deployed network stores: float32, int8, or 6- and 4-bit codes packed without gaps. */
export type DeployBits = 32 | 8 | 6 | 4;

/** One array of a deployed network: its C name, element count and element size. */
export interface DeployArray {
  name: string;
  elements: number;
  bytesPerElement: 1 | 4;
}

export interface DeployMemory {
  /** Static mutable state, in declaration order. */
  ram: DeployArray[];
  /** Constant data, in declaration order. */
  flash: DeployArray[];
  ramBytes: number;
  flashBytes: number;
}

export interface CellEdge {
  from: number;
  to: number;
  op: OpCode;
  feedback: boolean;
}

/** How a cell runs with one membrane per source node (see the module comment). */
export interface CellPlan {
  /** Nodes 1..3 that have any edge, in order (node 0 always exists: it is the input). */
  valueNodes: number[];
  /** Nodes with an outgoing conv edge (forward or feedback): each has one membrane. */
  lifSources: number[];
  /** Nodes that receive feedback. */
  feedbackTargets: number[];
  forward: CellEdge[];
  feedback: CellEdge[];
}

export function cellPlan(arch: Arch): CellPlan {
  const edges = archEdges(arch);
  const touched = new Set(edges.flatMap((e) => [e.from, e.to]));
  const isConv = (op: OpCode) => op === 2 || op === 3;
  const nodes = Array.from({ length: CELL_NODES }, (_, i) => i);
  return {
    valueNodes: nodes.filter((n) => n > 0 && (touched.has(n) || n === CELL_NODES - 1)),
    lifSources: nodes.filter((n) => edges.some((e) => e.from === n && isConv(e.op))),
    feedbackTargets: nodes.filter((n) => edges.some((e) => e.feedback && e.to === n)),
    forward: edges.filter((e) => !e.feedback),
    feedback: edges.filter((e) => e.feedback),
  };
}

/** The C name of a cell edge's conv, e.g. c1_e03 (cell 1, node 0 to node 3). */
export function edgeName(cell: 1 | 2, edge: { from: number; to: number }): string {
  return `c${cell}_e${edge.from}${edge.to}`;
}

/** RAM of one image's inference, in bytes (the same at every weight width: accumulators are 4 bytes). */
export function deployRamBytes(arch: Arch, config: NetConfig): number {
  return structBytes(ramArrays(arch, config));
}

export function deployMemory(arch: Arch, config: NetConfig, bits: DeployBits): DeployMemory {
  const ram = ramArrays(arch, config);
  const flash = flashArrays(arch, config, bits);
  return { ram, flash, ramBytes: structBytes(ram), flashBytes: structBytes(flash) };
}

function ramArrays(arch: Arch, config: NetConfig): DeployArray[] {
  const plan = cellPlan(arch);
  const { cell1, cell2 } = spatialSizes(config);
  const c = config.stemChannels;
  const area1 = cell1[0] * cell1[1] * c;
  const area2 = cell2[0] * cell2[1] * 2 * c;
  const hidden = config.classifierHidden;
  const outputs = config.numClasses * config.populationSize;
  const cellRam = (k: 1 | 2, size: number): DeployArray[] => [
    ...(k === 1 && plan.feedbackTargets.includes(0) ? [float('c1_n0', size)] : []),
    ...plan.valueNodes.map((n) => float(`c${k}_n${n}`, size)),
    ...plan.feedbackTargets.map((n) => float(`c${k}_fb${n}`, size)),
    ...plan.lifSources.map((n) => float(`c${k}_v${n}`, size)),
  ];
  return [
    float('stem', area1),
    ...cellRam(1, area1),
    float('down_v', area1),
    float('c2_in', area2),
    ...cellRam(2, area2),
    float('head_v', area2),
    float('hidden_v', hidden),
    float('votes', outputs),
    float('acc', Math.max(2 * c, hidden, outputs)),
    bytes('spikes', Math.max(area1, area2, hidden)),
  ];
}

function flashArrays(arch: Arch, config: NetConfig, bits: DeployBits): DeployArray[] {
  const plan = cellPlan(arch);
  const { head } = spatialSizes(config);
  const c = config.stemChannels;
  const hidden = config.classifierHidden;
  const outputs = config.numClasses * config.populationSize;
  const flat = head[0] * head[1] * 2 * c;

  const floats: DeployArray[] = [];
  const codes: DeployArray[] = [];
  const weights = (name: string, elements: number) => {
    if (bits === 32) floats.push(float(`${name}_w`, elements));
    else codes.push(bytes(`${name}_q`, Math.ceil((elements * bits) / 8)));
  };
  const conv = (name: string, k: number, inCh: number, outCh: number) => {
    weights(name, k * k * inCh * outCh);
    floats.push(float(`${name}_scale`, outCh), float(`${name}_bias`, outCh));
  };
  const batchNorm = (name: string, ch: number) =>
    floats.push(float(`${name}_mean`, ch), float(`${name}_factor`, ch), float(`${name}_shift`, ch));
  const cellFlash = (k: 1 | 2, ch: number) => {
    for (const edge of [...plan.forward, ...plan.feedback]) {
      if (edge.op === 2 || edge.op === 3) conv(edgeName(k, edge), edge.op === 2 ? 1 : 3, ch, ch);
    }
  };
  floats.push(float('norm', 256 * config.inputShape[2]));
  conv('stem', 3, config.inputShape[2], c);
  cellFlash(1, c);
  batchNorm('down_bn', c);
  conv('down', 3, c, 2 * c);
  cellFlash(2, 2 * c);
  batchNorm('head_bn', 2 * c);
  weights('fc1', flat * hidden);
  if (bits !== 32) floats.push(float('fc1_scale', hidden));
  weights('fc2', hidden * outputs);
  if (bits !== 32) floats.push(float('fc2_scale', outputs));
  floats.push(float('fc2_bias', outputs));
  return [...floats, ...codes];
}

const float = (name: string, elements: number): DeployArray => ({ name, elements, bytesPerElement: 4 });
const bytes = (name: string, elements: number): DeployArray => ({ name, elements, bytesPerElement: 1 });

/** Bytes of a C struct of these arrays in order: 4-byte members first, so only tail padding to 4. */
function structBytes(arrays: readonly DeployArray[]): number {
  const total = arrays.reduce((sum, a) => sum + a.elements * a.bytesPerElement, 0);
  return Math.ceil(total / 4) * 4;
}
