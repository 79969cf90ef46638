/**
 * A real redis-server on loopback for tests (Debian's redis-server 7.0: scripts/install-system-deps.sh
 * --with-test-deps), started as a tracked child process group on a free port, like test/helpers/rtsp-server.ts.
 *
 *   const redis = await startRedisServer({ password: 's3cret' });
 *   redis.url()          // redis://:s3cret@127.0.0.1:<port>
 *   await redis.stop('SIGKILL'); await redis.start();   // killed and back on the same port (same data dir)
 *   await redis.stop();
 *
 * Persistence is off (`--save ''`) unless `appendonly: true`, which keeps an AOF with `appendfsync always` in the
 * server's own temporary directory, so entries written before a SIGKILL are still there after start().
 * Ownership: the caller owns the handle and must stop() it (afterAll); processes.ts kills it when the worker exits.
 */
import { type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe } from 'vitest';

import { isCi } from './assets.js';
import { freePort, isRunning, spawnTracked, stopProcess } from './processes.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisServerOptions {
  /** requirepass. */
  password?: string;
  /** Keep an append-only file (fsync always) so that data survives a kill and restart. */
  appendonly?: boolean;
  /** How long to wait for "Ready to accept connections". Default 10000 ms. */
  readyTimeoutMs?: number;
}

export interface RedisServer {
  readonly port: number;
  /** `redis://[:password@]127.0.0.1:<port>`; `password` overrides the server's (a wrong one, for tests). */
  url(password?: string): string;
  /** Starts it again (same port, same data directory) after stop(); resolves when it accepts connections. */
  start(): Promise<void>;
  /** SIGTERM (or `signal`) and waits for the exit. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** stop() and remove the data directory. */
  dispose(): Promise<void>;
  readonly process: ChildProcess | undefined;
  /** What the server printed. */
  log(): string;
}

/** Why the harness cannot run here, or undefined. */
export function redisServerUnavailableReason(): string | undefined {
  return existsSync(REDIS_SERVER) ? undefined : `${REDIS_SERVER} not found (scripts/install-system-deps.sh --with-test-deps)`;
}

/**
 * `describe` for suites that need redis-server (and `also`, e.g. the RTSP harness's reason): as the RTSP tests do,
 * without them the suite skips with the reason printed, except under CI (env CI=true), where it runs and fails.
 */
export function describeRedis(title: string, fn: () => void, also?: string): void {
  const reason = redisServerUnavailableReason() ?? also;
  if (reason !== undefined && !isCi) {
    console.warn(`[camtrack tests] skipping ${title}: ${reason}`);
    describe.skip(`${title} (skipped: ${reason})`, fn);
  } else {
    describe(title, fn);
  }
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-redis-'));
  let child: ChildProcess | undefined;
  let log = '';
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--dir', dir, '--protected-mode', 'no'];
  if (options.password !== undefined) args.push('--requirepass', options.password);
  args.push('--appendonly', options.appendonly ? 'yes' : 'no');
  if (options.appendonly) args.push('--appendfsync', 'always');
  const timeoutMs = options.readyTimeoutMs ?? 10_000;

  const start = async (): Promise<void> => {
    const c = spawnTracked(REDIS_SERVER, args);
    child = c;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server not ready within ${timeoutMs} ms:\n${log}`)), timeoutMs);
      c.stdout!.setEncoding('utf8').on('data', (d: string) => {
        log += d;
        if (/Ready to accept connections/.test(log.slice(-4096))) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
      c.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (code ${code}, signal ${signal}) before it was ready:\n${log}`));
      });
    });
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child && isRunning(child)) await stopProcess(child, signal, 3000);
  };
  await start();
  return {
    port,
    url: (password = options.password) => `redis://${password !== undefined ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}`,
    start: async () => {
      log = '';
      await start();
    },
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    get process() {
      return child;
    },
    log: () => log,
  };
}
