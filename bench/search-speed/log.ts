/** Progress and errors go to stderr; stdout holds only the JSON record. */
export function log(message: string): void {
  process.stderr.write(`bench:search: ${message}\n`);
}
