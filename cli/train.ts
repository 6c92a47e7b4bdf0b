/** `spikenas train`: train one given architecture in this process and store its weights. */
import { randomUUID } from 'node:crypto';
import { openStore } from '../artifacts/index.js';
import { RUN_FILES, RunArtifacts } from '../artifacts/run.js';
import { InputError } from '../common/errors.js';
import { deriveSeed } from '../common/rng.js';
import { loadNetConfig } from '../config/net-config.js';
import { loadDataset, splitTrainVal } from '../datasets/index.js';
import { toModelArtifacts } from '../pipeline/model-artifacts.js';
import { canonicalizeArch, parseArch, pruneArch } from '../search/space/arch.js';
import { evaluateNetwork, initBackend, type QuantBits, quantizeWeights, trainNetwork } from '../snn/index.js';

export interface TrainFlags {
  arch: string;
  dataset: string;
  config: string;
  epochs: number;
  batchSize: number;
  maxSteps?: number;
  seed: number;
  /** Store the weights quantized to this width ('8' or '4'), as a search's quantization stage does. */
  weightBits?: string;
  out: string;
}

export async function trainOne(flags: TrainFlags) {
  const preset = await loadNetConfig(flags.config);
  const dataset = await loadDataset(flags.dataset, { seed: flags.seed });
  const config = { ...preset, inputShape: dataset.inputShape, numClasses: dataset.numClasses };
  const arch = parseArch(flags.arch, config.cellType);
  if (pruneArch(arch) === null) {
    throw new InputError(
      'arch',
      `'${flags.arch}' is not a valid cell (the 0->3 edge is missing or no path joins 0 to 3)`,
    );
  }
  const backend = await initBackend();
  const split = splitTrainVal(dataset, { valFraction: 0.1, seed: deriveSeed(flags.seed, 'split') });
  const result = await trainNetwork(
    arch,
    config,
    split,
    {
      epochs: flags.epochs,
      batchSize: flags.batchSize,
      ...(flags.maxSteps ? { maxStepsPerEpoch: flags.maxSteps } : {}),
    },
    { seed: deriveSeed(flags.seed, 'train') },
  );
  // Stored as a search's quantize-evaluate stage stores them: dequantized codes, with the width in winner.json.
  const quantize = async (bits: QuantBits) => {
    const quantized = await quantizeWeights(result.weights, bits);
    const { accuracy } = await evaluateNetwork(arch, config, quantized.weights, split.test, 100);
    const weightBytes = quantized.codeBytes + quantized.scaleBytes;
    return { weights: quantized.weights, summary: { weightBits: bits, weightBytes, accuracy } };
  };
  const quantization =
    flags.weightBits === undefined ? null : await quantize(Number(flags.weightBits) as QuantBits);
  const run = new RunArtifacts(await openStore(flags.out), `train-${randomUUID().slice(0, 8)}`);
  await run.writeWeights(
    toModelArtifacts(quantization?.weights ?? result.weights, { arch: canonicalizeArch(arch), config }),
  );
  await run.putJson(RUN_FILES.winner, {
    arch: canonicalizeArch(arch),
    config,
    dataset: flags.dataset,
    seed: flags.seed,
    quantization: quantization?.summary ?? null,
    datasetFingerprint: dataset.fingerprint,
    backend,
    valAccuracy: result.valAccuracy,
    testAccuracy: result.testAccuracy,
    spikeRates: result.spikeRates,
  });
  return {
    arch: canonicalizeArch(arch),
    ...(quantization ? { quantization: quantization.summary } : {}),
    valAccuracy: result.valAccuracy,
    testAccuracy: result.testAccuracy,
    spikeRates: result.spikeRates,
    weights: run.uriOf(RUN_FILES.modelJson),
  };
}
