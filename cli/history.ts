/** `spikenas history --fleet <name>`: the fleet's past searches, read from the artifact store. */

import { openStore } from '../artifacts/index.js';
import { formatDuration } from '../common/duration.js';
import { formatSize } from '../common/size.js';
import { type FleetSearch, readFleetHistory } from '../reports/fleet-history.js';
import { EXIT } from './exit-codes.js';

export interface HistoryFlags {
  fleet: string;
  out: string;
  limit: number;
  json?: boolean;
}

export async function historyFromCli(flags: HistoryFlags): Promise<number> {
  const store = await openStore(flags.out);
  const searches = (await readFleetHistory(store, flags.fleet, (message) => console.error(message))).slice(
    0,
    flags.limit,
  );
  if (flags.json) {
    console.log(JSON.stringify(searches));
    return EXIT.ok;
  }
  if (searches.length === 0) {
    console.error(`spikenas: no searches of fleet ${flags.fleet} in ${store.uri}`);
    return EXIT.ok;
  }
  const rows = searches.map(historyRow);
  const header = [
    'started (UTC)',
    'workflow ID',
    'outcome',
    'winner',
    'params',
    'weights / budget',
    'accuracy',
    'elapsed',
    'stage time',
  ];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  for (const row of [header, ...rows]) {
    console.log(
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  }
  return EXIT.ok;
}

function historyRow(search: FleetSearch): string[] {
  const budget = search.budgetBytes === null ? 'no budget' : formatSize(search.budgetBytes);
  const weights =
    search.weightBytes === null ? '-' : `${formatSize(search.weightBytes)} at ${search.weightBits} bits`;
  return [
    search.startedAt.slice(0, 16).replace('T', ' '),
    search.workflowId,
    search.outcome,
    search.winner ?? '-',
    search.params?.toLocaleString('en-US') ?? '-',
    `${weights} / ${budget}`,
    search.accuracy === null ? '-' : `${(100 * search.accuracy).toFixed(2)} %`,
    search.wallMs === null ? '-' : formatDuration(search.wallMs),
    search.stageMs === null ? '-' : formatDuration(search.stageMs),
  ];
}
