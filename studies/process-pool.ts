/**
 * Job processes for a study. Small networks leave most of a core idle between kernels, so one process per
 * core with a single TensorFlow thread each does more work than one process using every core (measured
 * here, fmnist-small training at batch 64: two 1-thread processes 308 ms a step each, one 2-thread
 * process 448 ms). Processes, not worker threads: TensorFlow's thread pool is per process.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { JobOutcome, StudyJob } from './jobs.js';

const ENTRY = fileURLToPath(new URL('./job-process.js', import.meta.url));

interface Pending {
  resolve: (outcome: never) => void;
  reject: (error: Error) => void;
}

export class ProcessPool {
  private readonly idle: ChildProcess[] = [];
  private readonly waiting: ((child: ChildProcess) => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly children: ChildProcess[] = [];
  private nextId = 0;
  private closing = false;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const child = fork(ENTRY, [], {
        env: { ...process.env, TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.on('message', (message: { id: number; outcome?: unknown; error?: string }) => {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        this.release(child);
        if (message.error !== undefined) pending?.reject(new Error(message.error));
        else pending?.resolve(message.outcome as never);
      });
      child.on('exit', (code, signal) => {
        if (this.closing) return;
        for (const [id, pending] of this.pending) {
          pending.reject(new Error(`job process ${child.pid} exited (${signal ?? code}) during job ${id}`));
        }
        this.pending.clear();
      });
      this.children.push(child);
      this.idle.push(child);
    }
  }

  run<J extends StudyJob>(job: J): Promise<JobOutcome<J>> {
    return new Promise((resolve, reject) => {
      this.acquire((child) => {
        const id = this.nextId++;
        this.pending.set(id, { resolve: resolve as (outcome: never) => void, reject });
        child.send({ id, job });
      });
    });
  }

  close(): void {
    this.closing = true;
    for (const child of this.children) child.kill();
  }

  private acquire(use: (child: ChildProcess) => void): void {
    const child = this.idle.pop();
    if (child) use(child);
    else this.waiting.push(use);
  }

  private release(child: ChildProcess): void {
    const next = this.waiting.shift();
    if (next) next(child);
    else this.idle.push(child);
  }
}
