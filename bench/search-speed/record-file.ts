/**
 * The record file, filled mode by mode: a later run with the same settings adds a missing mode and keeps
 * the ones it holds; a file holding other settings is never added to (exit 2 names the field).
 */
import { existsSync, readFileSync } from 'node:fs';
import { MODES } from '../../config/request.js';
import type { SearchMode } from '../../contract/request.js';
import { type LaterNight, type ModeResult, type PaperResult, withSpeedups } from '../paper-results.js';
import { writeResultJson } from '../result-json.js';
import { log } from './log.js';
import type { SpeedRunOptions } from './options.js';
import { WORKER_ENV } from './workers.js';

/** The fields a record is made of besides its modes: they must match for a file to be added to. */
const SETTINGS = ['profile', 'dataset', 'budgetBytes', 'weightBits', 'seed', 'shards', 'workers'] as const;

/**
 * The record at options.outFile (or a new one), the requested modes it does not hold yet, and the requested
 * modes whose later night it does not hold yet (all of them when --no-later-night is not given).
 */
export function openRecord(options: SpeedRunOptions): {
  record: PaperResult;
  modesToRun: SearchMode[];
  laterNightsToRun: SearchMode[];
} {
  const { base, outFile, requestedModes } = options;
  const emptyRecord: PaperResult = {
    profile: base.profile,
    dataset: base.dataset,
    budget: options.budget,
    budgetBytes: options.budgetBytes,
    weightBits: base.weightBits,
    seed: base.seed,
    shards: base.shards,
    workers: { processes: options.workerCount, env: WORKER_ENV },
    searchStageSpeedup: null,
    endToEndSpeedup: null,
    searchTimeSpeedup: null,
    laterNightSearchTimeSpeedup: null,
    laterNightEndToEndSpeedup: null,
    speedupsWithheld: null,
    modes: {},
  };
  let record = emptyRecord;
  if (existsSync(outFile)) {
    record = JSON.parse(readFileSync(outFile, 'utf8')) as PaperResult;
    for (const field of SETTINGS) {
      const [was, now] = [JSON.stringify(record[field]), JSON.stringify(emptyRecord[field])];
      if (was !== now) {
        log(`${field}: ${outFile} records ${field} ${was}, not ${now}; use those settings or another --out`);
        process.exit(2);
      }
    }
  }
  const modesToRun = MODES.filter((mode) => requestedModes.includes(mode) && !record.modes[mode]);
  for (const mode of MODES.filter((m) => requestedModes.includes(m) && record.modes[m]))
    log(`${mode}: already recorded in ${outFile} (${record.modes[mode]?.session.date}); not run again`);
  const laterNightsToRun = options.laterNight
    ? MODES.filter((mode) => requestedModes.includes(mode) && !record.modes[mode]?.laterNight)
    : [];
  return { record, modesToRun, laterNightsToRun };
}

/** The record with a mode's later night added, written at once. */
export function addLaterNight(
  record: PaperResult,
  mode: SearchMode,
  laterNight: LaterNight,
  outFile: string,
): PaperResult {
  const first = record.modes[mode];
  if (!first) throw new Error(`${mode}: a later night needs the first night recorded`);
  const updated = withSpeedups({ ...record, modes: { ...record.modes, [mode]: { ...first, laterNight } } });
  writeResultJson(outFile, updated, log);
  log(`wrote ${outFile}`);
  return updated;
}

/** The record with one more mode, written at once: a mode is kept even if a later one fails. */
export function addMode(record: PaperResult, figures: ModeResult, outFile: string): PaperResult {
  const updated = withSpeedups({ ...record, modes: { ...record.modes, [figures.mode]: figures } });
  writeResultJson(outFile, updated, log);
  log(`wrote ${outFile}`);
  return updated;
}
