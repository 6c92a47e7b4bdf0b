import { InfeasibleBudgetError, InputError } from '../common/errors.js';

/** Exit codes of the CLI, stable for scripts and CI. */
export const EXIT = {
  ok: 0,
  /** Something unexpected: a bug, an unreachable server. */
  error: 1,
  invalidInput: 2,
  infeasibleBudget: 3,
  searchFailed: 4,
  cancelled: 5,
  /** `--timeout` ran out while waiting; the search itself goes on. */
  timedOut: 6,
} as const;

/** Maps an error (local, or the innermost cause of a workflow failure) to an exit code. */
export function exitCodeOf(error: unknown): number {
  let current: unknown = error;
  for (;;) {
    if (current instanceof InputError) return EXIT.invalidInput;
    if (current instanceof InfeasibleBudgetError) return EXIT.infeasibleBudget;
    // Failures from Temporal carry the original error's name as their type.
    const type = (current as { type?: string } | null)?.type;
    if (type === 'InputError') return EXIT.invalidInput;
    if (type === 'InfeasibleBudgetError') return EXIT.infeasibleBudget;
    if (current instanceof Error && current.cause) current = current.cause;
    else return EXIT.error;
  }
}
