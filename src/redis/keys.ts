import type { Redis } from 'ioredis';

/**
 * Redis key patterns: `{id}` stands for the camera id (`camera_{id}_input`, `inference_consumer_{id}`). One place
 * that fills them in, reads the id back out of a key, and turns a pattern into a SCAN MATCH glob.
 */

/** `pattern` with every `{id}` replaced by `cameraId` (a pattern without `{id}` is the same for every camera). */
export function redisKey(pattern: string, cameraId: string): string {
  return pattern.split('{id}').join(cameraId);
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\]/g;
const GLOB_SPECIAL = /[*?[\]\\]/g;

/** A matcher of keys made from `pattern`: the camera id of `key`, or undefined when the key is not one of them. */
export function keyIdMatcher(pattern: string): (key: string) => string | undefined {
  const parts = pattern.split('{id}');
  // The first {id} is the id; any later one must repeat it.
  const source = parts.map((p) => p.replace(REGEX_SPECIAL, '\\$&')).join('(.+?)');
  const re = new RegExp(`^${source}$`, 's');
  return (key) => {
    const m = re.exec(key);
    if (!m || m.length < 2) return undefined;
    const id = m[1]!;
    return m.slice(2).every((x) => x === id) && id.length > 0 ? id : undefined;
  };
}

/** The SCAN MATCH glob of the keys `pattern` makes: `camera_{id}_input` → `camera_*_input` (glob characters escaped). */
export function keyGlob(pattern: string): string {
  return pattern
    .split('{id}')
    .map((p) => p.replace(GLOB_SPECIAL, '\\$&'))
    .join('*');
}

/** The camera ids of every stream whose key `pattern` makes (SCAN … MATCH <glob> TYPE stream), as SCAN finds them. */
export async function* streamIds(client: Redis, pattern: string): AsyncGenerator<string> {
  const match = keyIdMatcher(pattern);
  let cursor = '0';
  do {
    const [next, keys] = (await client.call('SCAN', cursor, 'MATCH', keyGlob(pattern), 'COUNT', 1000, 'TYPE', 'stream')) as [string, string[]];
    cursor = next;
    for (const key of keys) {
      const id = match(key);
      if (id !== undefined) yield id;
    }
  } while (cursor !== '0');
}
