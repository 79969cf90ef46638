/**
 * The one place camtrack opens Redis connections (ioredis; docs/redis.md says why that client): the URL checked and
 * shown redacted, one reconnect policy, and every failure turned into a CamtrackError (ERR_CAMTRACK_REDIS) whose
 * message and hint never hold the password.
 *
 * Buffering policy: ioredis queues nothing for camtrack. Its offline queue is off and a command on a lost connection
 * fails at once (maxRetriesPerRequest 0, no resend), so the only buffers are camtrack's own, which are bounded and
 * count what they drop (src/sinks/redis.ts). The connection itself is retried forever with a capped, jittered
 * backoff, so Redis going away and coming back needs no restart.
 */
import { Redis, ReplyError } from 'ioredis';

import { CamtrackError, ConfigError, describeValue, redactSecretsIn } from '../errors.js';

/** A Redis server as camtrack holds it: the URL for ioredis, and how to show it and its errors without secrets. */
export interface RedisEndpoint {
  /** The URL as given, password included: handed to ioredis only, never printed. */
  readonly url: string;
  /** The URL as shown everywhere: `redis://***@host:port/db` when it had credentials. */
  readonly shown: string;
  /** The secrets of the URL in every spelling (as written, percent-decoded), scrubbed from any text camtrack prints. */
  readonly secrets: readonly string[];
  /** rediss:// (TLS). */
  readonly tls: boolean;
}

/** Shorter secrets are not searched for in free text (a 2-letter password would mangle every message). */
const MIN_SCRUBBED_SECRET = 3;

/**
 * Checks a redis:// or rediss:// URL (ConfigError at `path` otherwise, the value shown redacted) and returns it with
 * its redacted form and its secrets.
 */
export function redisEndpoint(url: string, path = 'redis.url'): RedisEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(path, `Expected redis:// or rediss:// URL but received ${describeValue(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(path, `Expected redis:// or rediss:// URL but received ${describeValue(url)}`);
  }
  const secrets = new Set<string>();
  const add = (s: string): void => {
    if (s.length === 0) return;
    secrets.add(s);
    try {
      secrets.add(decodeURIComponent(s));
    } catch {
      /* not percent-encoded */
    }
  };
  add(parsed.password);
  // ioredis also reads options from the query (`?password=…`).
  for (const [k, v] of parsed.searchParams) if (/pass|secret|token|key|auth/i.test(k)) add(v);
  return {
    url,
    shown: redactSecretsIn(url),
    secrets: [...secrets].filter((s) => s.length >= MIN_SCRUBBED_SECRET).sort((a, b) => b.length - a.length),
    tls: parsed.protocol === 'rediss:',
  };
}

/** `text` with URL credentials redacted and every secret of `endpoint` replaced by `***`. */
export function scrubSecrets(text: string, endpoint: RedisEndpoint): string {
  let out = redactSecretsIn(text);
  for (const s of endpoint.secrets) out = out.split(s).join('***');
  return out;
}

/** What to do about a Redis failure, from its message. */
function hintFor(message: string, endpoint: RedisEndpoint): string {
  if (/WRONGPASS|NOAUTH|invalid password|AUTH.*fail/i.test(message)) {
    return 'check the user and password in the URL (redis://user:password@host:port; percent-encode @ : / in the password)';
  }
  if (/ECONNREFUSED/.test(message)) return `is redis-server running and listening at ${endpoint.shown}? camtrack keeps reconnecting`;
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return 'the host name in the Redis URL does not resolve';
  if (/WRONGTYPE/.test(message)) return 'that key holds another Redis type than a stream: choose another key pattern or delete the key';
  if (/NOPERM|NOSCRIPT|unknown command/i.test(message)) return 'the Redis user lacks a command camtrack needs (XADD, XREADGROUP, XACK, …); see docs/redis.md';
  if (/certificate|SSL|TLS|EPROTO/i.test(message)) {
    return 'rediss:// needs a Redis server with TLS; trust a private CA with NODE_EXTRA_CA_CERTS=ca.pem';
  }
  if (/timed? ?out|ETIMEDOUT/i.test(message)) return 'Redis did not answer in time: is it overloaded, paused or unreachable?';
  return 'see docs/redis.md';
}

/**
 * Any failure of a Redis call as a CamtrackError: `Redis redis://***@host:6379: <doing>: <what happened>`, code
 * ERR_CAMTRACK_REDIS, stage 'redis', a hint. The password cannot appear in it.
 */
export function redisError(err: unknown, endpoint: RedisEndpoint, doing: string): CamtrackError {
  const message = err instanceof Error ? err.message : String(err);
  const text = scrubSecrets(`Redis ${endpoint.shown}: ${doing}: ${message}`, endpoint);
  return new CamtrackError(text, 'ERR_CAMTRACK_REDIS', { stage: 'redis', hint: scrubSecrets(hintFor(message, endpoint), endpoint) });
}

/** True for an error Redis itself answered (WRONGTYPE, NOGROUP, …): the command reached it, retrying will not help. */
export function isReplyError(err: unknown): boolean {
  return err instanceof (ReplyError as unknown as new () => Error);
}

/** Delay before reconnect attempt `times` (1, 2, …): 100 ms doubling up to 2 s, shortened by up to 20 % at random. */
export function reconnectDelayMs(times: number): number {
  const base = Math.min(2000, 100 * 2 ** Math.min(times - 1, 5));
  return Math.round(base * (1 - 0.2 * Math.random()));
}

export interface RedisClientOptions {
  /** Shown in CLIENT LIST (`camtrack:<role>`). */
  name: string;
  connectTimeoutMs: number;
  /** A command without a reply after this long fails (undefined: no limit; blocking reads must not have one). */
  commandTimeoutMs?: number;
}

/**
 * A client for `endpoint`, not yet connected (call `connect()`). No offline queue and no retry of commands (see the
 * file header); the connection is retried forever ({@link reconnectDelayMs}) until `disconnect()`/`quit()`.
 * The caller must listen to its 'error' events (ioredis prints unhandled ones with the URL's host).
 */
export function createRedisClient(endpoint: RedisEndpoint, options: RedisClientOptions): Redis {
  const client = new Redis(endpoint.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelayMs,
    connectTimeout: options.connectTimeoutMs,
    ...(options.commandTimeoutMs !== undefined ? { commandTimeout: options.commandTimeoutMs } : {}),
    connectionName: options.name,
    // RESP2: every Redis camtrack may meet speaks it, and replies keep one shape (ioredis 6 defaults to RESP3).
    protocol: 2,
    maintNotifications: 'disabled',
    // CLIENT SETINFO is refused by Redis before 7.2; it is cosmetic.
    disableClientInfo: true,
  });
  return client;
}

/**
 * Connects `client` (made by {@link createRedisClient}) once: resolves when it is ready; otherwise disconnects it and
 * rejects with the first failure as ERR_CAMTRACK_REDIS (ioredis's own rejection only says "Connection is closed";
 * the cause — ECONNREFUSED, WRONGPASS, a TLS error — comes as an 'error' event).
 */
export async function connectOnce(client: Redis, endpoint: RedisEndpoint): Promise<void> {
  let first: Error | undefined;
  const onError = (err: Error): void => {
    first ??= err;
  };
  client.on('error', onError);
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw redisError(first ?? err, endpoint, 'connect');
  } finally {
    client.off('error', onError);
  }
}
