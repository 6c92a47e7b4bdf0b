/**
 * NIR export (Neuromorphic Intermediate Representation, PyPI `nir` 1.0.8): the network as an NIRGraph in
 * the HDF5 layout `nir.write` produces and `nir.read` reads (version, then node/{type, nodes, edges,
 * metadata}), written with h5wasm. Shapes are channels-first (C, H, W) as NIR and its importers use them.
 *
 * Mapping at dt = 1. A trained LIF charges v += (x - v) / tau with tau = 4/3, fires at v >= 1 and resets to
 * 0. NIR's LIF integrates tau dv/dt = (v_leak - v) + r I, whose Euler step at dt = 1 is
 * v += (v_leak - v + r I) / tau: so tau = 4/3, r = 1, v_leak = 0, v_threshold = 1, v_reset = 0 for every
 * LIF. Each BatchNorm is folded at its running statistics: into the conv before it (weight x f, bias b,
 * with f = gamma / sqrt(var + eps) and b = beta - mean f), and, for the two that feed a LIF directly (down,
 * head), into a 1x1 Conv2d of diagonal weight f and bias b. Quantized weights enter as codes x scale. A
 * cell node, the sum of its incoming edges, is an identity node (AvgPool2d of kernel 1) that every edge
 * into it feeds: NIR sums a node's inputs, and every importer maps pooling. Feedback edges of backward cells
 * close cycles and carry the previous step's value. The head ends in Affine (the population outputs) and a
 * Linear that averages each class's population; the mean over T and the argmax are the reader's, as is the
 * input normalisation, per channel (pixel / 255 - norm_mean) / norm_std, both in the graph's metadata.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import h5wasm, { type Group } from 'h5wasm/node';
import { type CellEdge, edgeName } from '../search/space/deploy-memory.js';
import { spatialSizes } from '../search/space/memory.js';
import { LIF_TAU, LIF_THRESHOLD } from '../snn/lif.js';
import {
  type BatchNormConstants,
  type DeployNetwork,
  effectiveConvWeights,
  effectiveLinearWeights,
  type FoldedConv,
} from './folded.js';

/** The `nir` version whose layout this writes. */
export const NIR_VERSION = '1.0.8';

type NirValue = Float32Array | BigInt64Array | string | string[];
interface NirField {
  data: NirValue;
  shape: number[];
}
/** One NIR node: its type and fields, as nir's to_dict gives them. */
export interface NirNode {
  type: string;
  fields: Record<string, NirField>;
}
export interface NirGraph {
  nodes: Map<string, NirNode>;
  edges: [string, string][];
  metadata: Record<string, NirField>;
}

const f32 = (data: ArrayLike<number>, shape: number[]): NirField => ({
  data: Float32Array.from(data),
  shape,
});
const i64 = (values: number[], shape: number[] = [values.length]): NirField => ({
  data: BigInt64Array.from(values.map((v) => BigInt(v))),
  shape,
});

/** The graph of a deployed network (see the module comment). */
export function nirGraph(net: DeployNetwork, normalization: { mean: number[]; std: number[] }): NirGraph {
  const cfg = net.config;
  const { cell1, cell2, head } = spatialSizes(cfg);
  const c = cfg.stemChannels;
  const nodes = new Map<string, NirNode>();
  const edges: [string, string][] = [];
  const add = (name: string, node: NirNode) => {
    nodes.set(name, node);
    return name;
  };
  const link = (from: string, to: string) => edges.push([from, to]);
  const [h, w, cin] = cfg.inputShape;

  link(
    add('input', { type: 'Input', fields: { shape: i64([cin, h, w]) } }),
    add('stem', conv(net.stem, [h, w])),
  );
  const cellOut = (k: 1 | 2, input: string, shape: [number, number, number]) => {
    const [ch, ch2, ch3] = shape;
    const node = (j: number) => `cell${k}.n${j}`;
    for (const j of [0, ...net.plan.valueNodes]) add(node(j), avgPool(1, 1, 0));
    link(input, node(0));
    for (const i of net.plan.lifSources) {
      link(node(i), add(`cell${k}.lif${i}`, lif([ch, ch2, ch3])));
    }
    for (const edge of [...net.plan.forward, ...net.plan.feedback]) {
      link(...cellEdge(k, edge, shape, node));
    }
    return node(3);
  };
  const cellEdge = (
    k: 1 | 2,
    edge: CellEdge,
    shape: [number, number, number],
    node: (j: number) => string,
  ): [string, string] => {
    if (edge.op === 1) return [node(edge.from), node(edge.to)];
    const name = `cell${k}.e${edge.from}${edge.to}`;
    if (edge.op === 4) {
      link(node(edge.from), add(name, avgPool(3, 1, 1)));
    } else {
      const folded = net.cells[k - 1].get(edgeName(k, edge)) as FoldedConv;
      link(`cell${k}.lif${edge.from}`, add(name, conv(folded, [shape[1], shape[2]])));
    }
    return [name, node(edge.to)];
  };
  const out1 = cellOut(1, 'stem', [c, cell1[0], cell1[1]]);
  link(out1, add('down.bn', batchNorm(net.downBn, cell1)));
  link('down.bn', add('down.lif', lif([c, cell1[0], cell1[1]])));
  link('down.lif', add('down.conv', conv(net.down, cell1)));
  link('down.conv', add('down.pool', avgPool(2, 2, 0)));
  const out2 = cellOut(2, 'down.pool', [2 * c, cell2[0], cell2[1]]);
  link(out2, add('head.bn', batchNorm(net.headBn, cell2)));
  link('head.bn', add('head.lif', lif([2 * c, cell2[0], cell2[1]])));
  let pooled = 'head.lif';
  if (cfg.secondPool > 1) {
    link(pooled, add('head.pool', avgPool(cfg.secondPool, cfg.secondPool, 0)));
    pooled = 'head.pool';
  }
  const flatShape = [2 * c, head[0], head[1]];
  link(
    pooled,
    add('head.flatten', {
      type: 'Flatten',
      fields: { start_dim: i64([0], []), end_dim: i64([-1], []), input_type: i64(flatShape) },
    }),
  );
  const hidden = cfg.classifierHidden;
  const outputs = cfg.numClasses * cfg.populationSize;
  link('head.flatten', add('head.fc1', { type: 'Linear', fields: { weight: fc1Weights(net, head) } }));
  link('head.fc1', add('head.fc1.lif', lif([hidden])));
  const fc2 = transpose(effectiveLinearWeights(net.fc2), hidden, outputs);
  link(
    'head.fc1.lif',
    add('head.fc2', {
      type: 'Affine',
      fields: { weight: f32(fc2, [outputs, hidden]), bias: f32(net.fc2Bias, [outputs]) },
    }),
  );
  const vote = new Float32Array(cfg.numClasses * outputs);
  for (let k = 0; k < cfg.numClasses; k++) {
    for (let p = 0; p < cfg.populationSize; p++)
      vote[k * outputs + k * cfg.populationSize + p] = 1 / cfg.populationSize;
  }
  link('head.fc2', add('vote', { type: 'Linear', fields: { weight: f32(vote, [cfg.numClasses, outputs]) } }));
  link('vote', add('output', { type: 'Output', fields: { shape: i64([cfg.numClasses]) } }));
  return {
    nodes,
    edges,
    metadata: {
      generator: { data: 'spikenas', shape: [] },
      input: {
        data: 'per channel (pixel / 255 - norm_mean) / norm_std, the same image at every timestep',
        shape: [],
      },
      output: {
        data: 'class scores per timestep: the class is the argmax of their mean over the timesteps',
        shape: [],
      },
      norm_mean: f32(normalization.mean, [normalization.mean.length]),
      norm_std: f32(normalization.std, [normalization.std.length]),
      timesteps: i64([cfg.timesteps], []),
      dt: f32([1], []),
    },
  };
}

/** A conv in NIR's layout: weight (out, in, kh, kw) from the stored (kh, kw, in, out), zero padding (k - 1) / 2. */
function conv(folded: FoldedConv, inputShape: [number, number]): NirNode {
  const { kernel: k, inChannels: cin, outChannels: cout } = folded;
  const source = effectiveConvWeights(folded);
  const weight = new Float32Array(source.length);
  for (let ky = 0; ky < k; ky++)
    for (let kx = 0; kx < k; kx++)
      for (let ci = 0; ci < cin; ci++)
        for (let co = 0; co < cout; co++) {
          weight[((co * cin + ci) * k + ky) * k + kx] = source[
            ((ky * k + kx) * cin + ci) * cout + co
          ] as number;
        }
  const pad = (k - 1) / 2;
  return {
    type: 'Conv2d',
    fields: {
      input_shape: i64(inputShape),
      weight: f32(weight, [cout, cin, k, k]),
      stride: i64([folded.stride, folded.stride]),
      padding: i64([pad, pad]),
      dilation: i64([1, 1]),
      groups: i64([1], []),
      bias: f32(folded.bias, [cout]),
    },
  };
}

function avgPool(kernel: number, stride: number, padding: number): NirNode {
  return {
    type: 'AvgPool2d',
    fields: {
      kernel_size: i64([kernel, kernel]),
      stride: i64([stride, stride]),
      padding: i64([padding, padding]),
    },
  };
}

/** A BatchNorm at its running statistics as a 1x1 conv: diagonal weight f, bias b = shift - mean f. */
function batchNorm(bn: BatchNormConstants, inputShape: [number, number]): NirNode {
  const ch = bn.factor.length;
  const weight = new Float32Array(ch * ch);
  const bias = new Float32Array(ch);
  for (let c = 0; c < ch; c++) {
    weight[c * ch + c] = bn.factor[c] as number;
    bias[c] = (bn.shift[c] as number) - (bn.mean[c] as number) * (bn.factor[c] as number);
  }
  return {
    type: 'Conv2d',
    fields: {
      input_shape: i64(inputShape),
      weight: f32(weight, [ch, ch, 1, 1]),
      stride: i64([1, 1]),
      padding: i64([0, 0]),
      dilation: i64([1, 1]),
      groups: i64([1], []),
      bias: f32(bias, [ch]),
    },
  };
}

/** The trained LIF at dt = 1 (see the module comment). */
function lif(shape: number[]): NirNode {
  const n = product(shape);
  const filled = (value: number) => f32(new Float32Array(n).fill(value), shape);
  return {
    type: 'LIF',
    fields: {
      tau: filled(LIF_TAU),
      r: filled(1),
      v_leak: filled(0),
      v_threshold: filled(LIF_THRESHOLD),
      v_reset: filled(0),
    },
  };
}

/** fc1 as (hidden, flat) over the channels-first flatten; stored as (flat, hidden) over the HWC flatten. */
function fc1Weights(net: DeployNetwork, head: [number, number]): NirField {
  const hidden = net.config.classifierHidden;
  const ch = 2 * net.config.stemChannels;
  const area = head[0] * head[1];
  const source = effectiveLinearWeights(net.fc1);
  const weight = new Float32Array(source.length);
  for (let pos = 0; pos < area; pos++)
    for (let c = 0; c < ch; c++)
      for (let j = 0; j < hidden; j++) {
        weight[j * ch * area + c * area + pos] = source[(pos * ch + c) * hidden + j] as number;
      }
  return f32(weight, [hidden, ch * area]);
}

function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c] as number;
  return out;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Writes the graph as nir.write lays it out. */
export async function writeNirFile(graph: NirGraph, file: string): Promise<void> {
  const path = resolve(file);
  await mkdir(dirname(path), { recursive: true });
  await h5wasm.ready;
  const out = new h5wasm.File(path, 'w');
  try {
    out.create_dataset({ name: 'version', data: NIR_VERSION });
    const root = out.create_group('node');
    root.create_dataset({ name: 'type', data: 'NIRGraph' });
    root.create_dataset({ name: 'edges', data: graph.edges.flat(), shape: [graph.edges.length, 2] });
    writeFields(root.create_group('metadata'), graph.metadata);
    const nodes = root.create_group('nodes');
    for (const [name, node] of graph.nodes) {
      const group = nodes.create_group(name);
      group.create_dataset({ name: 'type', data: node.type });
      writeFields(group, node.fields);
    }
  } finally {
    out.close();
  }
}

function writeFields(group: Group, fields: Record<string, NirField>): void {
  for (const [name, field] of Object.entries(fields)) {
    if (typeof field.data === 'string') group.create_dataset({ name, data: field.data });
    else group.create_dataset({ name, data: field.data, shape: field.shape });
  }
}

export async function writeNir(
  net: DeployNetwork,
  normalization: { mean: number[]; std: number[] },
  file: string,
): Promise<void> {
  await writeNirFile(nirGraph(net, normalization), file);
}
