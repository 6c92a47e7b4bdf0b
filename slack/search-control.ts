/** What the bot needs of a search's life on Temporal: start, describe, cancel. slack/searches.ts binds it. */
import type { SearchProgress } from '../contract/progress.js';
import type { SearchRequest } from '../contract/request.js';
import type { SearchSummary } from '../contract/summary.js';

export interface SearchDescription {
  status: string;
  progress: SearchProgress | null;
  summary?: SearchSummary;
  failure?: string;
}

/** The few Temporal operations the bot needs; slack/searches.ts binds them to a real client. */
export interface SearchControl {
  /**
   * Starts a search. A plain fleet search gets the fleet's ID for the day in its time zone, as
   * `spikenas start --fleet` does; `alreadyRunning` says that search is running or has succeeded today.
   * A `fresh` ID is for searches that change the fleet's budget or dataset.
   */
  start(
    request: SearchRequest,
    options: { timeZone: string; fresh: boolean },
  ): Promise<{ workflowId: string; alreadyRunning: boolean }>;
  /** null when no search has that ID. */
  describe(workflowId: string): Promise<SearchDescription | null>;
  /** false when no running search has that ID. */
  cancel(workflowId: string): Promise<boolean>;
}
