/**
 * `npm run bench:deploy-c -- <run> [--artifacts S] [--dataset fashion-mnist] [--limit N] [--out FILE]`:
 * exports a run's stored model as C, compiles it as a firmware build would, classifies the test images
 * with it and with `spikenas predict` (TensorFlow.js), and writes the agreement, both accuracies and the
 * flash and RAM figures (memory model, the C constants, `size` of the object file) as JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { machineIdentity } from '../common/machine.js';
import { exportC } from '../deploy/export.js';
import { loadSplit, predictDataset } from '../deploy/predict.js';
import { loadStoredModel, resolveRunLocation } from '../deploy/stored-model.js';
import { backendInfo, describeBackend } from '../snn/index.js';
import { buildExport, classifyWithC, GCC_FLAGS } from './c-build.js';
import { writeResultJson } from './result-json.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    artifacts: { type: 'string', default: resolve('.spikenas', 'artifacts') },
    dataset: { type: 'string', default: 'fashion-mnist' },
    limit: { type: 'string' },
    out: { type: 'string' },
  },
});
const runArg = positionals[0];
if (runArg === undefined)
  throw new Error('usage: bench:deploy-c <run> [--artifacts S] [--limit N] [--out FILE]');
const limit = values.limit === undefined ? undefined : Number(values.limit);

const model = await loadStoredModel(resolveRunLocation(runArg, values.artifacts));
const dir = mkdtempSync(join(tmpdir(), 'spikenas-c-'));
try {
  const predictStarted = Date.now();
  const predicted = await predictDataset(model, values.dataset, 'test', limit);
  const predictMs = Date.now() - predictStarted;
  const exported = await exportC(model, dir);
  const built = buildExport(dir);
  const { images } = await loadSplit(values.dataset, 'test', limit);
  const cStarted = Date.now();
  const c = await classifyWithC(built.binary, images.pixels);
  const cMs = Date.now() - cStarted;
  let agree = 0;
  let cCorrect = 0;
  const disagreements: number[] = [];
  c.classes.forEach((k, i) => {
    if (k === predicted.predictions[i]) agree++;
    else disagreements.push(i);
    if (k === predicted.labels[i]) cCorrect++;
  });
  const count = predicted.count;
  const result = {
    date: new Date().toISOString(),
    command: `npm run bench:deploy-c -- ${process.argv.slice(2).join(' ')}`,
    run: model.source,
    arch: model.archText,
    config: model.config,
    weightBits: model.weightBits,
    dataset: values.dataset,
    images: count,
    agreement: agree / count,
    disagreements,
    accuracy: { spikenas: predicted.accuracy, c: cCorrect / count },
    memory: {
      model: { flashBytes: exported.flashBytes, ramBytes: exported.ramBytes },
      constants: { flashBytes: c.flashBytes, ramBytes: c.ramBytes },
      object: built.object,
      note: "flash constant = memory model + 2 sizeof(size_t); .rodata adds alignment padding of the struct; .rodata.cst* are the code's literal pools",
    },
    msPerImage: { c: cMs / count, spikenasPredict: predictMs / count },
    compiler: { command: `gcc ${GCC_FLAGS.join(' ')}` },
    machine: machineIdentity(),
    backend: describeBackend(backendInfo()),
  };
  const out =
    values.out ??
    join('bench', 'results', `deploy-c-${model.archText.replaceAll(' ', '')}-${model.weightBits}bit.json`);
  writeResultJson(out, result, (message) => console.error(message));
  console.log(
    JSON.stringify({ out, agreement: result.agreement, accuracy: result.accuracy, memory: result.memory }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
