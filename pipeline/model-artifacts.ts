import type { io } from '@tensorflow/tfjs-core';
import type { NetConfig } from '../snn/config.js';
import type { SerializedWeights } from '../snn/index.js';

/**
 * A trained network in tfjs model format: its weights, with the cell matrix and network config as
 * metadata, so that `tf.io` tools can read the weights and spikenas can rebuild the network they belong to.
 */
export function toModelArtifacts(
  weights: SerializedWeights,
  network: { arch: string; config: NetConfig },
): io.ModelArtifacts {
  const bytes = Buffer.from(weights.data, 'base64');
  return {
    modelTopology: { spikenas: network },
    weightSpecs: weights.specs,
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    format: 'spikenas-snn',
    generatedBy: 'spikenas',
  };
}
