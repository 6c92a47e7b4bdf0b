/** Operation codes of the SNASNet cell (see shared method doc). */
export type OpCode = 0 | 1 | 2 | 3 | 4;

export const OP_NAMES: Record<OpCode, string> = {
  0: 'none',
  1: 'skip',
  2: 'conv1x1',
  3: 'conv3x3',
  4: 'avgpool3x3',
};

/** Number of nodes in a cell: node 0 is the input, node 3 the output. */
export const CELL_NODES = 4;

/**
 * A cell's 4x4 connection matrix. arch[i][j] with i < j is the forward op from node i to j;
 * with i > j (backward cells only) it is a feedback op from node i at step t-1 into node j at step t.
 */
export type Arch = readonly (readonly OpCode[])[];
