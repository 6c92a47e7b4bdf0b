/**
 * Bad user input. The message always names the field and what is allowed, so a CLI, a
 * workflow (as a non-retryable failure) and the Slack bot can show it as it is.
 */
export class InputError extends Error {
  readonly field: string;
  readonly allowed: string | undefined;

  constructor(field: string, problem: string, allowed?: string) {
    super(allowed === undefined ? `${field}: ${problem}` : `${field}: ${problem} (allowed: ${allowed})`);
    this.name = 'InputError';
    this.field = field;
    this.allowed = allowed;
  }
}

/** The budget admits no candidate of the searched space. Distinct from bad input: the input was well formed. */
export class InfeasibleBudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InfeasibleBudgetError';
  }
}

/**
 * The message at the end of an error's cause chain: Temporal wraps an activity's failure in an
 * ActivityFailure and that in a WorkflowFailedError, and the innermost message is the one a person needs.
 * Pure, so the workflow sandbox imports it too.
 */
export function innermostMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
