import { describe, expect, it } from 'vitest';
import type { WinnerSummary } from '../contract/run-records.js';
import { renderReport, type SearchReportInput } from '../reports/report.js';
import { describeRule, enhanceSpace } from '../search/strategy/enhance.js';
import type { ImpactResult } from '../search/strategy/impact-plan.js';
import type { SearchResult } from '../search/strategy/search-result.js';
import type { NetConfig } from '../snn/config.js';
import { candidates, front } from './support/scored-candidates.js';

const CONFIG: NetConfig = {
  inputShape: [28, 28, 1],
  numClasses: 10,
  stemChannels: 8,
  stemStride: 1,
  secondPool: 7,
  classifierHidden: 64,
  populationSize: 2,
  timesteps: 4,
  cellType: 'forward',
};

describe('renderReport', () => {
  const all = candidates(20, 9);
  const topK = [...all].sort((a, b) => b.score - a.score).slice(0, 5);
  const search: SearchResult = {
    seed: 42,
    mode: 'spikenas',
    config: CONFIG,
    budgetBytes: 100_000,
    weightBits: [32],
    counters: { generated: 500, invalid: 120, duplicate: 200, overBudget: 60, scored: 120, prefiltered: 0 },
    topK,
    pareto: front(all),
    firstPass: {
      batchSize: 32,
      timesteps: 5,
      repeats: 1,
      survivors: 20,
      evidence: {
        study: 'bench/results/first-pass-x.json',
        pass: 't5-b32',
        candidates: 200,
        spearmanRho: 0.9634,
        top20Kept: 19,
      },
    },
    prefilterAgreement: 0.912,
    wallMs: 12_345,
  };
  const winner: WinnerSummary = {
    arch: '0302 0030 0003 0000',
    params: 30_000,
    weightBits: 32,
    weightBytes: 120_000,
    storedBytes: 120_000,
    stateBytes: 9_000,
    score: 140.5,
    accuracyBeforeQuantization: 0.8712,
    quantization: {
      weightBits: 8,
      weightBytes: 30_000,
      accuracy: 0.8655,
      method: 'quantization-aware',
      postTrainingAccuracy: 0.8601,
    },
    spikeRates: [
      { layer: 'cell1.node1', rate: 0.12 },
      { layer: 'head.hidden', rate: 0.31 },
    ],
    training: {
      epochs: 5,
      wallMs: 95_000,
      trainOn: 'train+val',
      trainImages: 60_000,
      quantizationAwareEpochs: 1,
    },
  };
  const input: SearchReportInput = {
    runId: 'run-7',
    startedAt: '2024-05-01T02:00:00.000Z',
    request: { dataset: 'fashion-mnist', budget: '100KB', mode: 'spikenas', seed: 42 },
    seeds: { search: 42, split: 43 },
    backend: 'wasm',
    budgetBytes: 100_000,
    dataset: {
      name: 'fashion-mnist',
      source: '/usr/share/datasets/fashion-mnist',
      fingerprint: 'ab'.repeat(32),
      inputShape: [28, 28, 1],
      numClasses: 10,
      trainCount: 54000,
      valCount: 6000,
      testCount: 10000,
    },
    stageWallMs: { 'operation-impact': 3000, 'memory-aware-search': 12345, 'train-winner': 95000 },
    search,
    impact: {
      seed: 42,
      datasetFingerprint: 'ab'.repeat(32),
      samplesPerLook: [2, 4],
      wallMs: 3000,
      impacts: [
        {
          op: 3,
          name: 'conv3x3',
          meanDelta: 0.041,
          std: 0.01,
          n: 4,
          ci: { level: 0.975, low: 0.0251, high: 0.0569 },
          stop: 'clear of 0',
          samples: [],
        },
        {
          op: 4,
          name: 'avgpool3x3',
          meanDelta: -0.012,
          std: 0.002,
          n: 4,
          ci: { level: 0.975, low: -0.0152, high: -0.0088 },
          stop: 'clear of 0',
          samples: [],
        },
        {
          op: 'feedback',
          name: 'feedback',
          meanDelta: 0.02,
          std: 0,
          n: 1,
          ci: null,
          stop: 'last look',
          samples: [],
        },
      ],
    },
    enhanced: {
      ops: [1, 2, 3],
      cellType: 'forward',
      rule: 'drop ops whose mean delta is below 0',
      decisions: [
        { subject: 'avgpool3x3', kept: false, reason: 'mean delta -1.2 pp | below 0' },
        { subject: 'conv3x3', kept: true, reason: 'mean delta +4.1 pp' },
        { subject: 'feedback', kept: false, reason: 'n = 1 < 2: no interval' },
      ],
    },
    winner,
  };

  /** The rows of the markdown table that follows a heading. */
  function tableAfter(markdown: string, heading: string): string[] {
    const lines = markdown.split('\n');
    const start = lines.findIndex((l) => l.startsWith(heading));
    const rows: string[] = [];
    for (let i = start + 1; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.startsWith('|')) rows.push(line);
      else if (rows.length > 0) break;
    }
    return rows.slice(2);
  }

  it('shows config, seeds, dataset, counters, stage times, impact, decisions and the winner', () => {
    const md = renderReport(input);
    expect(md).toContain('# spikenas search report: run-7');
    expect(md).toContain('"budget": "100KB"');
    expect(tableAfter(md, '## Seeds')).toEqual(['| search | 42 |', '| split | 43 |']);
    expect(md).toContain(`\`${'ab'.repeat(32)}\``);
    expect(tableAfter(md, '## Candidates')).toEqual(['| 500 | 120 | 200 | 60 | 0 | 120 |']);
    expect(md).toContain(
      'First pass: SAHD at T = 5 on 32 images x 1, its best 20 of 0 go on to full SAHD. Measured agreement ' +
        '(bench/results/first-pass-x.json, pass t5-b32, 200 unfiltered candidates): Spearman 0.963 with ' +
        "full SAHD; its best 20 hold 19 of the full-SAHD top 20. On this run's survivors: Spearman 0.912 " +
        'with full SAHD.',
    );
    expect(tableAfter(md, '## Stage wall times').map((r) => r.split(' | ')[0])).toEqual([
      '| operation-impact',
      '| memory-aware-search',
      '| train-winner',
      '| total',
    ]);
    expect(md).toContain("pairs in looks of 2, 4), with its confidence interval at the looks' level");
    expect(tableAfter(md, '## Operation impact')).toEqual([
      '| conv3x3 | +4.10 pp | 97.5% [+2.51 pp, +5.69 pp] | 4 | clear of 0 | kept |',
      '| avgpool3x3 | -1.20 pp | 97.5% [-1.52 pp, -0.88 pp] | 4 | clear of 0 | dropped |',
      '| feedback | +2.00 pp | none (n < 2) | 1 | last look | not adopted |',
    ]);
    expect(md).toContain('Rule: drop ops whose mean delta is below 0');
    expect(md).toContain('| feedback | not adopted | n = 1 < 2: no interval |');
    // A '|' inside a cell is escaped so the table keeps its columns.
    expect(md).toContain('| avgpool3x3 | dropped | mean delta -1.2 pp \\| below 0 |');
    expect(md).toContain('Operations kept: skip, conv1x1, conv3x3');
    expect(tableAfter(md, '## Winner')[0]).toBe('| node 0 | · | conv3x3 | · | conv1x1 |');
    expect(md).toContain('| test accuracy as trained (32-bit float weights) | 87.12% |');
    expect(md).toContain('| test accuracy after post-training quantization to 8 bits | 86.01% |');
    expect(md).toContain('| test accuracy lost to post-training quantization | 1.11 pp |');
    expect(md).toContain('| test accuracy after quantization-aware training at 8 bits (stored) | 86.55% |');
    expect(md).toContain('| test accuracy lost with quantization-aware training | 0.57 pp |');
    expect(md).toContain('| fits the budget | yes, 30.00% of the budget |');
    expect(md).toContain(
      '| training | 5 epochs on 60000 training and validation images, then the last epoch again quantization-aware at 8 bits, ',
    );
    expect(tableAfter(md, '### Spike rate per layer')).toEqual([
      '| cell1.node1 | 12.00% |',
      '| head.hidden | 31.00% |',
    ]);
    expect(tableAfter(md, '## Top 5 candidates')).toHaveLength(5);
    expect(tableAfter(md, '## Pareto front')).toHaveLength(search.pareto.length);
    expect(md).toContain('![Pareto plot](pareto.svg)');
  });

  it('states the enhancement rule and shows its decisions beside the impact evidence', () => {
    const enhanced = enhanceSpace(input.impact as ImpactResult);
    const md = renderReport({ ...input, enhanced });
    expect(md).toContain(`Rule: ${describeRule([2, 4])}`);
    expect(tableAfter(md, '## Operation impact').map((r) => r.split(' | ').at(-1))).toEqual([
      'kept |',
      'dropped |',
      'not adopted |',
    ]);
    expect(md).toContain(
      '| avgpool3x3 | dropped | mean gain -1.20 points, 97.5% CI [-1.52, -0.88] below 0: dropped |',
    );
    expect(md).toContain('Operations kept: skip, conv1x1, conv3x3; cell type: forward.');
  });

  it('says what every row is: no label twice, stages in the order they run, the whole run timed', () => {
    const scrambled = {
      ...input,
      stageWallMs: {
        'train-winner': 95000,
        'prepare-dataset': 500,
        'memory-aware-search': 12345,
        'operation-impact': 3000,
      },
    };
    const md = renderReport(scrambled);
    for (const heading of ['# spikenas search report: run-7', '## Winner']) {
      const labels = tableAfter(md, heading).map((r) => r.split(' | ')[0]);
      expect(new Set(labels).size, heading).toBe(labels.length);
    }
    expect(tableAfter(md, '## Stage wall times').map((r) => r.split(' | ')[0])).toEqual([
      '| prepare-dataset',
      '| operation-impact',
      '| memory-aware-search',
      '| train-winner',
      '| total',
    ]);
    expect(md).toContain('| wall time, all stages | 1 min 50 s |');
    expect(md).toContain('| wall time, memory-aware search stage |');
    expect(md).not.toContain('search wall time');
  });

  it('says when the winner does not fit, marks feedback edges, and handles a baseline run', () => {
    const md = renderReport({
      ...input,
      budgetBytes: 20_000,
      search: {
        ...search,
        mode: 'snasnet',
        budgetBytes: null,
        config: { ...CONFIG, cellType: 'backward' },
      },
      impact: null,
      enhanced: null,
      winner: { ...winner, arch: '0302 0030 3003 0000', quantization: null },
    });
    expect(md).toContain('| fits the budget | NO, 600.00% of the budget |');
    expect(md).toContain('| node 2 | conv3x3 (feedback) | · | · | conv3x3 |');
    expect(md).toContain('Not run (snasnet mode searches the full operation set).');
    expect(md).not.toContain('### Enhanced search space');
  });

  it('in snasnet mode shows the budget only the winner was quantized to fit, and what that cost', () => {
    const md = renderReport({
      ...input,
      budgetBytes: 40_000,
      search: { ...search, mode: 'snasnet', budgetBytes: null, firstPass: null, prefilterAgreement: null },
      impact: null,
      enhanced: null,
      winner: {
        ...winner,
        quantization: {
          weightBits: 8,
          weightBytes: 30_000,
          accuracy: 0.8655,
          method: 'post-training',
          postTrainingAccuracy: 0.8655,
        },
        training: {
          ...(winner.training as NonNullable<WinnerSummary['training']>),
          quantizationAwareEpochs: 0,
        },
      },
    });
    expect(md).toContain('| budget (weights) | 39.1 KiB (40000 bytes) |');
    expect(md).toContain('The search did not filter by the budget: only the winner was quantized to fit it.');
    expect(md).toContain('First pass: none; every candidate was scored with full SAHD.');
    expect(md).toContain('| test accuracy as trained (32-bit float weights) | 87.12% |');
    expect(md).toContain('| test accuracy after post-training quantization to 8 bits | 86.55% |');
    expect(md).toContain('| test accuracy lost to post-training quantization | 0.57 pp |');
    expect(md).not.toContain('quantization-aware');
    expect(md).toContain('| fits the budget | yes, 75.00% of the budget |');
    // spikenas' search kept to the budget itself: no such note.
    expect(renderReport(input)).not.toContain('did not filter by the budget');
  });
});
