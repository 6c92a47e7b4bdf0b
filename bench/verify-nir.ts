/**
 * `npm run verify:nir -- <run> [--artifacts S] [--dataset fashion-mnist] [--limit 1000] [--out FILE]`: the
 * NIR export checked by a real consumer. Installs nir, torch, nirtorch and snntorch into .spikenas/nir-verify
 * on first use (scripts/nir.sh), exports the run's stored model as NIR, imports it with snnTorch's own NIR
 * importer, runs the first test images for T steps (scripts/verify_nir.py), and writes the share of images
 * whose class equals `spikenas predict`'s, and both accuracies, as JSON.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineIdentity } from '../common/machine.js';
import { exportNir } from '../deploy/export.js';
import { loadSplit, predictDataset } from '../deploy/predict.js';
import { loadStoredModel, resolveRunLocation } from '../deploy/stored-model.js';
import { backendInfo, describeBackend } from '../snn/index.js';
import { writeResultJson } from './result-json.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    artifacts: { type: 'string', default: resolve('.spikenas', 'artifacts') },
    dataset: { type: 'string', default: 'fashion-mnist' },
    limit: { type: 'string', default: '1000' },
    out: { type: 'string' },
  },
});
const runArg = positionals[0];
if (runArg === undefined) throw new Error('usage: verify:nir <run> [--artifacts S] [--limit N] [--out FILE]');
const limit = Number(values.limit);

execFileSync('bash', [join(ROOT, 'scripts', 'nir.sh'), 'install-verify'], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
const model = await loadStoredModel(resolveRunLocation(runArg, values.artifacts));
const dir = mkdtempSync(join(tmpdir(), 'spikenas-nir-'));
try {
  const predicted = await predictDataset(model, values.dataset, 'test', limit);
  const file = join(dir, 'model.nir');
  await exportNir(model, file);
  const { images } = await loadSplit(values.dataset, 'test', limit);
  const pixels = join(dir, 'images.u8');
  writeFileSync(pixels, images.pixels);
  const started = Date.now();
  const stdout = execFileSync(
    join(ROOT, '.spikenas', 'nir-verify', 'bin', 'python'),
    [join(ROOT, 'scripts', 'verify_nir.py'), file, pixels, String(images.count)],
    // Fixed hashing: nirtorch sums a node's inputs in set order.
    {
      encoding: 'utf8',
      env: { ...process.env, PYTHONHASHSEED: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 2 ** 26,
    },
  );
  const imported = JSON.parse(stdout.trim().split('\n').at(-1) as string) as {
    predictions: number[];
    versions: Record<string, string>;
  };
  const count = predicted.count;
  let agree = 0;
  let correct = 0;
  imported.predictions.forEach((k, i) => {
    if (k === predicted.predictions[i]) agree++;
    if (k === predicted.labels[i]) correct++;
  });
  const accuracy = { spikenas: predicted.accuracy, snntorch: correct / count };
  const result = {
    date: new Date().toISOString(),
    command: `npm run verify:nir -- ${process.argv.slice(2).join(' ')}`,
    run: model.source,
    arch: model.archText,
    config: model.config,
    weightBits: model.weightBits,
    dataset: values.dataset,
    images: count,
    importer: 'snntorch.import_nir.import_from_nir (LIF time constants scaled to its dt = 1e-4 s)',
    versions: imported.versions,
    agreement: agree / count,
    accuracy,
    accuracyGapPoints: 100 * Math.abs(accuracy.spikenas - accuracy.snntorch),
    snntorchSeconds: (Date.now() - started) / 1000,
    machine: machineIdentity(),
    backend: describeBackend(backendInfo()),
  };
  const out =
    values.out ??
    join('bench', 'results', `verify-nir-${model.archText.replaceAll(' ', '')}-${model.weightBits}bit.json`);
  writeResultJson(out, result, (message) => console.error(message));
  console.log(JSON.stringify({ out, agreement: result.agreement, accuracy, versions: imported.versions }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
