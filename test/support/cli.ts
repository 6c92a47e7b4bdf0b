/** A built script as a child process, as a user or a CI job runs it: exit code, stdout and stderr. */
import { type ChildProcess, spawn } from 'node:child_process';
import { CLI } from './temporal.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  onStart?: (child: ChildProcess) => void;
  cwd?: string;
}

/** The spikenas CLI (dist/cli/main.js). */
export const runCli = (args: string[], options: RunOptions = {}): Promise<CliRun> =>
  runScript(CLI, args, options);

export function runScript(script: string, args: string[], options: RunOptions = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c) => {
      stdout += c;
    });
    child.stderr?.on('data', (c) => {
      stderr += c;
    });
    options.onStart?.(child);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
