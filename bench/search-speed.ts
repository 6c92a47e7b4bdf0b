/**
 * Search time of spikenas against the snasnet baseline on the same data, budget and seed (the figure the
 * method doc says users compare), plus a second spikenas run that reuses the stored operation-impact
 * evidence as a nightly run does. One JSON object on stdout: `npm run bench:search [-- --profile paper]`.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runSearchLocally } from '../pipeline/local.js';
import type { SearchRequest, SearchSummary } from '../workflows/types.js';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'fashion-mnist' },
    budget: { type: 'string', default: '32KiB' },
    'weight-bits': { type: 'string', default: '8' },
    profile: { type: 'string', default: 'quick' },
    seed: { type: 'string', default: '1' },
  },
});
const artifacts = mkdtempSync(join(tmpdir(), 'spikenas-bench-'));
const base: SearchRequest = {
  dataset: values.dataset,
  budget: values.budget,
  mode: 'spikenas',
  profile: values.profile as SearchRequest['profile'],
  seed: Number(values.seed),
  weightBits: Number(values['weight-bits']) as SearchRequest['weightBits'],
  shards: 1,
  artifacts,
};

async function timed(request: SearchRequest, runId: string) {
  const started = Date.now();
  const summary = await runSearchLocally(request, { runId });
  return { summary, totalMs: Date.now() - started };
}

function figures({ summary, totalMs }: { summary: SearchSummary; totalMs: number }) {
  const searchStage = JSON.parse(
    readFileSync(join(artifacts, 'runs', summary.runId, 'stages', 'memory-aware-search.json'), 'utf8'),
  ) as { prefilterAgreement: number | null };
  return {
    backend: summary.backend,
    totalMs,
    stageWallMs: summary.stageWallMs,
    counters: summary.counters,
    prefilterAgreement: searchStage.prefilterAgreement,
    winner: summary.winner,
    params: summary.params,
    weightBits: summary.weightBits,
    weightBytes: summary.weightBytes,
    fitsBudget: summary.budgetBytes === null ? null : summary.weightBytes <= summary.budgetBytes,
    accuracy: summary.accuracy,
    accuracyBeforeQuantization: summary.accuracyBeforeQuantization,
  };
}

const spikenas = figures(await timed(base, 'bench-spikenas'));
const snasnet = figures(await timed({ ...base, mode: 'snasnet' }, 'bench-snasnet'));
const nightly = figures(await timed(base, 'bench-spikenas-again'));
const searchMs = (f: ReturnType<typeof figures>) => f.stageWallMs['memory-aware-search'] ?? Number.NaN;
console.log(
  JSON.stringify({
    request: { ...base, artifacts },
    spikenas,
    snasnet,
    spikenasWithStoredImpact: nightly,
    searchStageSpeedup: searchMs(snasnet) / searchMs(spikenas),
    totalSpeedupWithStoredImpact: snasnet.totalMs / nightly.totalMs,
  }),
);
