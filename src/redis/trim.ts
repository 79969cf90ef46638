/**
 * Trimming an input stream up to what every consumer group of it has acknowledged (XTRIM MINID), so that a stream
 * whose consumers keep up never grows, and no group loses an entry it has not acknowledged.
 */
import type { Redis } from 'ioredis';

/** The id after `id` (`5-3` → `5-4`): MINID of the entries up to and including `id`. */
export function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq ?? '0') + 1n}`;
}

/** `a < b` for entry ids. */
export function idLess(a: string, b: string): boolean {
  const [am, as] = a.split('-').map((x) => BigInt(x));
  const [bm, bs] = b.split('-').map((x) => BigInt(x));
  return am! < bm! || (am === bm && (as ?? 0n) < (bs ?? 0n));
}

/** The field `name` of a flat [k, v, k, v] reply (XINFO GROUPS entries). */
export function xinfoField(flat: unknown[], name: string): unknown {
  for (let i = 0; i + 1 < flat.length; i += 2) if (String(flat[i]) === name) return flat[i + 1];
  return undefined;
}

/**
 * Trims `key` with MINID = the oldest entry some group still has pending, or, for a group with nothing pending, the
 * entry after the last one it read. Returns the entries removed, or undefined when there was nothing to decide on (no
 * group, nothing read yet). Throws what Redis answers (no such key: a reply error).
 */
export async function trimAcknowledged(client: Redis, key: string): Promise<number | undefined> {
  const groups = (await client.call('XINFO', 'GROUPS', key)) as unknown[][];
  let min: string | undefined;
  for (const g of groups) {
    const name = String(xinfoField(g, 'name'));
    let bound: string;
    if (Number(xinfoField(g, 'pending')) > 0) {
      const summary = (await client.call('XPENDING', key, name)) as [number, string | null, string | null, unknown];
      bound = String(summary[1]);
    } else {
      bound = nextId(String(xinfoField(g, 'last-delivered-id')));
    }
    if (min === undefined || idLess(bound, min)) min = bound;
  }
  if (min === undefined || min === '0-1') return undefined;
  return Number(await client.call('XTRIM', key, 'MINID', min));
}
