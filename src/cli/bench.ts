export async function runBench(_argv: string[]): Promise<number> {
  throw new Error('bench: not yet wired');
}
