#!/usr/bin/env node
/**
 * The spikenas command line. In-process commands (inspect, search, train) need no server; the others talk
 * to Temporal (start, status, resume, cancel, list, worker, schedule, bot, run).
 */
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { InputError } from '../common/errors.js';
import { formatSize } from '../common/size.js';
import { findFleet, loadFleets } from '../config/fleets.js';
import { loadNetConfig } from '../config/net-config.js';
import { MAX_SHARDS, validateSearchRequest } from '../config/request.js';
import type { SearchRequest } from '../contract/request.js';
import { canonicalizeArch, parseArch, pruneArch } from '../search/space/arch.js';
import { estimateMemory, parseWeightBits, parseWeightBitsSet } from '../search/space/memory.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { printSummary } from './output.js';
import { ProgressView } from './progress-view.js';

export const DEFAULT_ARTIFACTS = process.env.SPIKENAS_ARTIFACTS ?? resolve('.spikenas', 'artifacts');
const DEFAULT_FLEETS = process.env.SPIKENAS_FLEETS ?? 'fleets.yaml';

const program = new Command('spikenas')
  .description('Memory-aware architecture search for spiking neural networks (SpikeNAS on the SNASNet space)')
  .showHelpAfterError()
  // Usage errors throw instead of exiting, so they get the invalid-input exit code like every bad input.
  .exitOverride();

function integer(field: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${field} must be an integer from ${min} to ${max}`);
    }
    return value;
  };
}

/** Options shared by `search` (in-process) and `start` (Temporal). */
function searchOptions(command: Command): Command {
  return command
    .option(
      '--dataset <name|path>',
      'fashion-mnist, mnist, cifar10, cifar100, synthetic, or a folder',
      'fashion-mnist',
    )
    .option('--budget <size>', 'weight-memory budget, e.g. 256KiB (B, KB, KiB, MB, MiB)')
    .option(
      '--ram-budget <size>',
      'RAM budget of the deployed network for one image (membranes, buffers), e.g. 160KiB',
    )
    .addOption(
      new Option('--mode <mode>', 'search mode').choices(['spikenas', 'snasnet']).default('spikenas'),
    )
    .addOption(
      new Option('--profile <profile>', 'search profile').choices(['quick', 'paper']).default('quick'),
    )
    .option('--seed <n>', 'seed of every random choice', integer('seed', 0, 2 ** 32 - 1), 1)
    .option(
      '--weight-bits <list>',
      'widths the winner may be stored at, comma-separated (32, 8, 6, 4); one width fixes it',
      '8,6,4',
    )
    .option('--include <matrix...>', 'matrices to score beside the searched space (e.g. the deployed one)')
    .option('--out <dir|uri>', 'artifact store: a folder, file://… or s3://bucket/prefix', DEFAULT_ARTIFACTS)
    .option('--json', 'print the result as one JSON object');
}

interface SearchFlags {
  dataset: string;
  budget?: string;
  ramBudget?: string;
  mode: 'spikenas' | 'snasnet';
  profile: 'quick' | 'paper';
  seed: number;
  weightBits: string;
  include?: string[];
  out: string;
  json?: boolean;
  shards?: number;
  fleet?: string;
}

function requestOf(flags: SearchFlags): SearchRequest {
  if (flags.mode === 'spikenas' && flags.budget === undefined) {
    throw new InputError('budget', 'is required in spikenas mode (--budget)', 'a size such as 256KiB');
  }
  return validateSearchRequest({
    dataset: flags.dataset,
    budget: flags.budget ?? null,
    ...(flags.ramBudget ? { ramBudget: flags.ramBudget } : {}),
    mode: flags.mode,
    profile: flags.profile,
    seed: flags.seed,
    weightBits: parseWeightBitsSet(flags.weightBits),
    shards: flags.shards ?? 1,
    artifacts: flags.out,
    ...(flags.include ? { include: flags.include } : {}),
    ...(flags.fleet ? { fleet: flags.fleet } : {}),
  });
}

program
  .command('inspect')
  .description(
    'memory footprint and canonical form of one cell matrix, computed without building the network',
  )
  .requiredOption('--arch <matrix>', 'SNASNet matrix, e.g. "0302 0030 3003 0000"')
  .option('--config <preset|file.json>', 'network preset or config file', 'fmnist-tiny')
  .option('--weight-bits <n>', 'weight precision: 32, 8, 6, 4', '32')
  .option('--state-bits <n>', 'precision of a membrane potential', integer('state-bits', 1, 64), 32)
  .option('--json', 'print JSON')
  .action(
    async (flags: {
      arch: string;
      config: string;
      weightBits: string;
      stateBits: number;
      json?: boolean;
    }) => {
      const config = await loadNetConfig(flags.config);
      const weightBits = parseWeightBits(flags.weightBits);
      const arch = parseArch(flags.arch, config.cellType);
      const valid = pruneArch(arch) !== null;
      const memory = estimateMemory(arch, config, { weightBits, stateBits: flags.stateBits });
      const result = {
        params: memory.params,
        weightBytes: memory.weightBytes,
        stateBytes: memory.stateBytes,
        valid,
        canonical: valid ? canonicalizeArch(arch) : null,
      };
      if (flags.json) console.log(JSON.stringify(result));
      else {
        console.log(`params        ${result.params}`);
        console.log(`weight memory ${formatSize(result.weightBytes)} at ${weightBits} bits`);
        console.log(`state memory  ${formatSize(result.stateBytes)} at ${flags.stateBits} bits`);
        console.log(`valid         ${valid}${valid ? `, canonical ${result.canonical}` : ''}`);
      }
    },
  );

searchOptions(program.command('search'))
  .description('run a whole search in this process (no Temporal), with a progress bar and a summary')
  .action(async (flags: SearchFlags) => {
    const request = requestOf(flags);
    const { runSearchLocally } = await import('../pipeline/local.js');
    const view = new ProgressView({ tty: !flags.json && process.stderr.isTTY === true });
    const summary = await runSearchLocally(request, {
      onProgress: (progress) => view.update(progress),
      warn: (message) => view.log(message),
    }).finally(() => view.stop());
    if (flags.json) console.log(JSON.stringify(summary));
    else printSummary(summary);
  });

program
  .command('train')
  .description('train one architecture and report its accuracy and spike rates')
  .requiredOption('--arch <matrix>', 'SNASNet matrix, e.g. "0302 0030 3003 0000"')
  .option('--dataset <name|path>', 'dataset', 'fashion-mnist')
  .option('--config <preset|file.json>', 'network preset or config file', 'fmnist-tiny')
  .option('--epochs <n>', 'epochs', integer('epochs', 1, 10_000), 1)
  .option('--batch-size <n>', 'batch size', integer('batch-size', 1, 4096), 64)
  .option('--max-steps <n>', 'cap on steps per epoch', integer('max-steps', 1))
  .option('--seed <n>', 'seed', integer('seed', 0, 2 ** 32 - 1), 1)
  .addOption(
    new Option(
      '--weight-bits <n>',
      'store the weights quantized to this width (as a search stores them)',
    ).choices(['8', '6', '4']),
  )
  .option('--out <dir|uri>', 'artifact store for the weights', DEFAULT_ARTIFACTS)
  .option('--json', 'print JSON')
  .action(async (flags) => {
    const { trainOne } = await import('./train.js');
    const result = await trainOne(flags);
    if (flags.json) console.log(JSON.stringify(result));
    else {
      console.log(`val accuracy  ${(result.valAccuracy * 100).toFixed(2)} %`);
      console.log(`test accuracy ${(result.testAccuracy * 100).toFixed(2)} %`);
      console.log(`weights       ${result.weights}`);
    }
  });

program
  .command('predict <run>')
  .description("the stored model's predicted class for each image of a dataset split, in dataset order")
  .option('--dataset <name|path>', 'dataset', 'fashion-mnist')
  .addOption(new Option('--split <split>', 'dataset part').choices(['test', 'train']).default('test'))
  .option('--limit <n>', 'only the first n images', integer('limit', 1))
  .option('--artifacts <dir|uri>', 'artifact store of a run given by workflow ID', DEFAULT_ARTIFACTS)
  .option('--json', 'print one JSON object')
  .action(async (run: string, flags) => {
    const { predictFromCli } = await import('./deploy.js');
    process.exitCode = await predictFromCli(run, flags);
  });

program
  .command('export <run>')
  .description("write a run's stored model as self-contained C99 (a folder) or as an NIR graph (a file)")
  .addOption(new Option('--format <format>', 'export format').choices(['c', 'nir']).makeOptionMandatory())
  .requiredOption('--out <path>', 'c: the folder for spikenas_model.h and .c; nir: the .nir file')
  .option('--artifacts <dir|uri>', 'artifact store of a run given by workflow ID', DEFAULT_ARTIFACTS)
  .option('--dataset <name|path>', 'the training data, for runs that do not record it')
  .option('--json', 'print one JSON object')
  .action(async (run: string, flags) => {
    const { exportFromCli } = await import('./deploy.js');
    process.exitCode = await exportFromCli(run, flags);
  });

searchOptions(program.command('start'))
  .description('start a search on Temporal and print its workflow ID')
  .option('--shards <n>', 'parallel shards of the memory-aware search', integer('shards', 1, MAX_SHARDS), 1)
  .option('--fleet <name>', 'take dataset, budget, bits, profile and seed from this fleet of the fleets file')
  .option('--fleets <file>', 'fleets file', DEFAULT_FLEETS)
  .option('--wait', 'wait for the result, streaming progress')
  .option(
    '--timeout <duration>',
    'with --wait: stop waiting after this long (e.g. 45m, 90s); the search goes on',
  )
  .action(
    async (flags: SearchFlags & { fleets: string; wait?: boolean; timeout?: string }, command: Command) => {
      const { startFromCli } = await import('./remote.js');
      if (flags.fleet) {
        const fleet = findFleet(await loadFleets(flags.fleets), flags.fleet);
        // Fleet values apply unless the option was given on the command line.
        const given = (name: string) => command.getOptionValueSource(name) === 'cli';
        if (!given('dataset')) flags.dataset = fleet.dataset;
        if (!given('budget')) flags.budget = fleet.budget;
        if (!given('ramBudget') && fleet.ramBudget) flags.ramBudget = fleet.ramBudget;
        if (!given('weightBits')) flags.weightBits = fleet.weightBits.join(',');
        if (!given('profile')) flags.profile = fleet.profile;
        if (!given('seed')) flags.seed = fleet.seed;
        process.exitCode = await startFromCli(requestOf(flags), { ...flags, timeZone: fleet.timezone });
      } else {
        process.exitCode = await startFromCli(requestOf(flags), flags);
      }
    },
  );

program
  .command('status <workflowId>')
  .description('stage, counters and result of a search')
  .option('--json', 'print JSON')
  .action(async (workflowId: string, flags: { json?: boolean }) => {
    const { statusFromCli } = await import('./remote.js');
    process.exitCode = await statusFromCli(workflowId, flags);
  });

program
  .command('resume <workflowId>')
  .description('run a failed or cancelled search again from its checkpoints (same ID, same artifacts)')
  .option('--wait', 'wait for the result, streaming progress')
  .option('--timeout <duration>', 'with --wait: stop waiting after this long; the search goes on')
  .option('--json', 'print the result as one JSON object')
  .action(async (workflowId: string, flags: { wait?: boolean; timeout?: string; json?: boolean }) => {
    const { resumeFromCli } = await import('./remote.js');
    process.exitCode = await resumeFromCli(workflowId, flags);
  });

program
  .command('cancel <workflowId>')
  .description('cancel a search; finished stages and checkpoints stay in the artifact store')
  .action(async (workflowId: string) => {
    const { cancelSearch, withClient } = await import('../client/temporal.js');
    await withClient((client) => cancelSearch(client, workflowId));
    console.log(`cancel requested for ${workflowId}`);
  });

program
  .command('list')
  .description('recent searches')
  .option('--limit <n>', 'how many', integer('limit', 1, 1000), 20)
  .option('--json', 'print JSON')
  .action(async (flags: { limit: number; json?: boolean }) => {
    const { listSearches, withClient } = await import('../client/temporal.js');
    const rows = await withClient((client) => listSearches(client, flags.limit));
    if (flags.json) console.log(JSON.stringify(rows));
    else
      for (const r of rows)
        console.log(`${r.workflowId.padEnd(44)} ${r.status.padEnd(11)} ${r.startTime.toISOString()}`);
  });

program
  .command('history')
  .description(
    "a fleet's past searches from the artifact store: outcome, winner, memory, accuracy, elapsed and stage time",
  )
  .requiredOption('--fleet <name>', 'the fleet, as named in the fleets file')
  .option('--out <dir|uri>', 'artifact store: a folder, file://… or s3://bucket/prefix', DEFAULT_ARTIFACTS)
  .option('--limit <n>', 'how many, newest first', integer('limit', 1, 100_000), 30)
  .option('--json', 'print JSON')
  .action(async (flags: { fleet: string; out: string; limit: number; json?: boolean }) => {
    const { historyFromCli } = await import('./history.js');
    process.exitCode = await historyFromCli(flags);
  });

program
  .command('worker')
  .description('run a worker: workflows and light stages on the CPU queue, heavy stages on the GPU queue')
  .addOption(
    new Option('--queues <roles>', 'which queues this process serves')
      .choices(['cpu', 'gpu', 'cpu,gpu'])
      .default('cpu,gpu'),
  )
  .action(async (flags: { queues: string }) => {
    const { runWorker } = await import('../worker/worker.js');
    await runWorker({ roles: flags.queues.split(',') as ('cpu' | 'gpu')[] });
  });

const schedule = program.command('schedule').description('nightly searches per fleet as Temporal Schedules');
schedule
  .command('sync')
  .description('create, update and delete schedules so that each fleet of the file has exactly one')
  .option('--fleets <file>', 'fleets file', DEFAULT_FLEETS)
  .option('--out <dir|uri>', 'artifact store the nightly searches write to', DEFAULT_ARTIFACTS)
  .option('--shards <n>', 'parallel shards per search', integer('shards', 1, MAX_SHARDS), 1)
  .option('--dry-run', 'say what would change, change nothing')
  .option('--json', 'print JSON')
  .action(
    async (flags: { fleets: string; out: string; shards: number; dryRun?: boolean; json?: boolean }) => {
      const fleets = await loadFleets(flags.fleets);
      const { withClient } = await import('../client/temporal.js');
      const { syncSchedules } = await import('./schedules.js');
      const report = await withClient((client) =>
        syncSchedules(client, fleets, {
          artifacts: flags.out,
          shards: flags.shards,
          ...(flags.dryRun ? { dryRun: true } : {}),
        }),
      );
      if (flags.json) console.log(JSON.stringify(report));
      else
        for (const [what, ids] of Object.entries(report))
          console.log(`${what.padEnd(9)} ${(ids as string[]).join(', ') || '-'}`);
    },
  );
schedule
  .command('list')
  .description('fleet schedules with their next run times')
  .option('--json', 'print JSON')
  .action(async (flags: { json?: boolean }) => {
    const { withClient } = await import('../client/temporal.js');
    const { listSchedules } = await import('./schedules.js');
    const rows = await withClient(listSchedules);
    if (flags.json) console.log(JSON.stringify(rows));
    else
      for (const r of rows) {
        const next = r.nextRuns.map((d) => d.toISOString()).join(', ');
        console.log(
          `${r.fleet.padEnd(20)} ${r.cron.padEnd(14)} ${r.timezone.padEnd(18)} next: ${next}${r.paused ? ' (paused)' : ''}`,
        );
      }
  });

program
  .command('bot')
  .description('run the Slack bot (HTTP, Bolt, signing secret from SLACK_SIGNING_SECRET)')
  .option('--port <n>', 'port', integer('port', 1, 65535), 3000)
  .action(async (flags: { port: number }) => {
    const { startBotServer } = await import('../slack/server.js');
    const server = await startBotServer({ port: flags.port });
    console.error(`spikenas bot: listening on ${server.url}`);
  });

program
  .command('run')
  .description('the embedded default: a quick Fashion-MNIST search through a local Temporal dev server')
  .option('--budget <size>', 'weight-memory budget', '32KiB')
  .option(
    '--weight-bits <list>',
    'widths the winner may be stored at, comma-separated (32, 8, 6, 4); one width fixes it',
    '8,6,4',
  )
  .option('--dataset <name|path>', 'dataset', 'fashion-mnist')
  .option('--seed <n>', 'seed', integer('seed', 0, 2 ** 32 - 1), 1)
  .option('--out <dir|uri>', 'artifact store', DEFAULT_ARTIFACTS)
  .action(
    async (flags: { budget: string; weightBits: string; dataset: string; seed: number; out: string }) => {
      const { runEmbedded } = await import('./embedded.js');
      process.exitCode = await runEmbedded({ ...flags, weightBits: parseWeightBitsSet(flags.weightBits) });
    },
  );

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander has printed the message and usage already.
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.invalidInput);
  }
  const code = exitCodeOf(error);
  console.error(`spikenas: ${error instanceof Error ? error.message : String(error)}`);
  if (code === EXIT.error && error instanceof Error && process.env.SPIKENAS_DEBUG) console.error(error.stack);
  process.exit(code);
});
