/**
 * The README's "Results: paper profile" table from every bench/results/paper-*.json: printed as markdown,
 * or with --write put between the README's paper-results markers.
 *   node dist/bench/results-table.js [--write] [--results <folder>] [--readme <file>]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadPaperResults } from './paper-results.js';
import { renderPaperTable, replaceBetweenMarkers } from './paper-table.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const { values } = parseArgs({
  options: {
    write: { type: 'boolean', default: false },
    results: { type: 'string', default: `${ROOT}bench/results` },
    readme: { type: 'string', default: `${ROOT}README.md` },
  },
});

const table = renderPaperTable(loadPaperResults(values.results));
if (values.write) {
  const readme = readFileSync(values.readme, 'utf8');
  const updated = replaceBetweenMarkers(readme, table);
  if (updated !== readme) writeFileSync(values.readme, updated);
  console.error(`results-table: ${updated === readme ? 'unchanged' : 'updated'} ${values.readme}`);
}
console.log(table);
