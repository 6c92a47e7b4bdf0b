export async function writeNir(_n: unknown, _a: unknown, _f: string): Promise<void> {
  throw new Error('todo');
}
