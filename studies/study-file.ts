/**
 * A study's JSON file: its settings, every finished measurement, and a summary recomputed from them at
 * each append. The file is the resume point: reopened with the same settings, a study skips what it
 * holds; reopened with other settings, it refuses rather than mix two studies in one file. Written to a
 * temporary file and renamed, so an interrupted write never loses what was there, and formatted as the
 * committed results are (biome) at every write; summarised in full when the study ends
 * (studies/run-study.ts), even by Ctrl-C or SIGTERM. Only a SIGKILLed study leaves a summary up to a minute
 * old; rerunning it refreshes it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { writeResultJson } from '../bench/result-json.js';
import { InputError } from '../common/errors.js';
import { machineIdentity } from '../common/machine.js';

const SUMMARY_INTERVAL_MS = 60_000;

export interface StudyHeader<S> {
  study: string;
  command: string;
  backend: string;
  settings: S;
}

export interface StudyContents<S, R, Summary> extends StudyHeader<S> {
  startedAt: string;
  updatedAt: string;
  /**
   * Machines the measurements came from, each with its load when it first ran the study (a study resumed
   * elsewhere lists both).
   */
  machines: string[];
  results: R[];
  summary: Summary;
}

export class StudyFile<S, R, Summary> {
  private contents: StudyContents<S, R, Summary>;
  private summarisedAt = 0;

  constructor(
    private readonly path: string,
    header: StudyHeader<S>,
    private readonly summarise: (results: readonly R[]) => Summary,
  ) {
    const machine = describeMachine();
    if (existsSync(path)) {
      const stored = JSON.parse(readFileSync(path, 'utf8')) as StudyContents<S, R, Summary>;
      checkSameSettings(path, stored, header);
      this.contents = {
        ...stored,
        machines: stored.machines.some((m) => sameMachine(m, machine))
          ? stored.machines
          : [...stored.machines, machine],
      };
    } else {
      const now = new Date().toISOString();
      this.contents = {
        ...header,
        startedAt: now,
        updatedAt: now,
        machines: [machine],
        results: [],
        summary: summarise([]),
      };
    }
  }

  get results(): readonly R[] {
    return this.contents.results;
  }

  get summary(): Summary {
    return this.contents.summary;
  }

  /**
   * Adds a result and writes the file, formatted for committing: a study stopped part-way leaves a file that
   * passes `biome check` as it is. The summary (bootstrap intervals: seconds of CPU on hundreds of results)
   * is recomputed at most every SUMMARY_INTERVAL_MS, so the study's job processes never wait on it.
   */
  append(result: R): void {
    const results = [...this.contents.results, result];
    this.contents = { ...this.contents, updatedAt: new Date().toISOString(), results };
    if (Date.now() - this.summarisedAt >= SUMMARY_INTERVAL_MS) this.resummarise();
    this.write();
  }

  /** Summarises every result and writes the file, when the study ends. */
  finish(): void {
    this.resummarise();
    this.write();
  }

  /** A study's progress goes to stderr, and so does biome's refusal to format (the JSON is written anyway). */
  private write(): void {
    writeResultJson(this.path, this.contents, console.error);
  }

  private resummarise(): void {
    this.contents = { ...this.contents, summary: this.summarise(this.contents.results) };
    this.summarisedAt = Date.now();
  }
}

function checkSameSettings<S>(path: string, stored: StudyHeader<S>, header: StudyHeader<S>): void {
  if (stored.study !== header.study) {
    throw new InputError(
      'out',
      `${path} holds a '${stored.study}' study`,
      `a file of a '${header.study}' study`,
    );
  }
  const storedSettings = stored.settings as Record<string, unknown>;
  const settings = header.settings as Record<string, unknown>;
  for (const field of new Set([...Object.keys(storedSettings), ...Object.keys(settings)])) {
    const was = JSON.stringify(storedSettings[field]);
    const now = JSON.stringify(settings[field]);
    if (was !== now) {
      throw new InputError(
        field,
        `${path} was started with ${field} ${was}, not ${now}; a study resumes only with its own settings`,
        `${was}, or another --out file`,
      );
    }
  }
}

/** e.g. "2 cores (Intel Xeon ..., x86_64), 24 GiB; load average 0.3 at start". */
export function describeMachine(): string {
  const { cores, cpuModel, arch, memoryBytes } = machineIdentity();
  const gib = Math.round(memoryBytes / 2 ** 30);
  return `${cores} cores (${cpuModel}, ${arch}), ${gib} GiB; load average ${loadavg()[0]?.toFixed(1)} at start`;
}

/** The same machine whatever its load: a study resumed on it in another session does not list it again. */
const sameMachine = (a: string, b: string) => a.split('; load')[0] === b.split('; load')[0];
