import * as tf from '@tensorflow/tfjs-core';

/** Named tensors as JSON: tfjs weight specs plus the concatenated little-endian data in base64. */
export interface SerializedWeights {
  specs: tf.io.WeightsManifestEntry[];
  data: string;
}

export async function serializeWeights(tensors: tf.NamedTensorMap): Promise<SerializedWeights> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  return { specs, data: Buffer.from(data as ArrayBuffer).toString('base64') };
}

/** New tensors, owned by the caller (dispose them). */
export function deserializeWeights(weights: SerializedWeights): tf.NamedTensorMap {
  const bytes = Buffer.from(weights.data, 'base64');
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return tf.io.decodeWeights(buffer, weights.specs);
}
