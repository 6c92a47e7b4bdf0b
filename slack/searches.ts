import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { cancelSearch, describeSearch, searchWorkflowId, startSearch } from '../client/temporal.js';
import type { SearchControl } from './search-control.js';

/** Binds the bot's SearchControl to a Temporal client, with the same workflow IDs the CLI uses. */
export function temporalSearches(client: Client): SearchControl {
  return {
    async start(request, { timeZone, fresh }) {
      // A fresh ID comes from a request without a fleet; the request itself keeps its fleet.
      const workflowId = fresh ? searchWorkflowId({}, new Date()) : undefined;
      const { workflowId: id, started } = await startSearch(client, request, { workflowId, timeZone });
      return { workflowId: id, alreadyRunning: !started };
    },
    async describe(workflowId) {
      return nullWhenNotFound(() => describeSearch(client, workflowId));
    },
    async cancel(workflowId) {
      // Temporal accepts a cancel request for a search that has already ended, so look first.
      const execution = await nullWhenNotFound(() => client.workflow.getHandle(workflowId).describe());
      if (execution?.status.name !== 'RUNNING') return false;
      await cancelSearch(client, workflowId);
      return true;
    },
  };
}

async function nullWhenNotFound<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}
