/**
 * `camtrack serve` in tests: buildServer() on a free loopback port with pino's output captured (every log line kept,
 * to check that no secret is logged), a reader of Server-Sent Events over fetch, and an event-driven wait.
 *
 *   const s = await startServe({ model: assetPath(MODEL), serve: { token: TOKEN, stateFile } });
 *   await s.inject({ method: 'GET', url: '/api/v1/cameras', headers: s.auth });
 *   const sse = await readSse(`${s.url}/api/v1/cameras/walk/events`, { authorization: `Bearer ${TOKEN}` });
 *   await sse.next((m) => m.type === 'result');  sse.close();
 *   await s.close();
 */
import { Writable } from 'node:stream';

import { buildServer, type BuildServerOptions, type BuiltServer } from '../../dist/server/app.js';

export interface TestServer extends BuiltServer {
  /** Every log line written so far (pino JSON). */
  logs(): string;
  /** `{ authorization: 'Bearer <token>' }` with the server's token, or {} without one. */
  auth: Record<string, string>;
  inject: BuiltServer['app']['inject'];
}

/** Starts a server on 127.0.0.1 and a free port (unless `config.serve` says otherwise). */
export async function startServe(config: BuildServerOptions['config'], extra: Omit<BuildServerOptions, 'config' | 'logger'> = {}): Promise<TestServer> {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  });
  const server = await buildServer({
    ...extra,
    config: { ...config, serve: { port: 0, ...(config.serve ?? {}) } },
    logger: { level: 'debug', stream },
  });
  const token = config.serve?.token;
  return Object.assign(server, {
    logs: () => text,
    auth: token ? { authorization: `Bearer ${token}` } : ({} as Record<string, string>),
    inject: server.app.inject.bind(server.app) as BuiltServer['app']['inject'],
  });
}

/** Polls `cond` every 50 ms until it holds, failing after `timeoutMs` with `what`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An SSE stream read over fetch: every `data:` message parsed as JSON, comments counted. */
export interface SseReader {
  status: number;
  headers: Headers;
  messages: Record<string, unknown>[];
  /** Resolves with the first message (from `from` on) that matches, failing after `timeoutMs`. */
  next(match: (m: Record<string, unknown>) => boolean, timeoutMs?: number, from?: number): Promise<Record<string, unknown>>;
  /** Resolves when the server has ended the response (or close() aborted it). */
  done: Promise<void>;
  close(): void;
}

export async function readSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const messages: Record<string, unknown>[] = [];
  let done = Promise.resolve();
  if (res.ok && res.body) {
    done = (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buf.indexOf('\n\n')) !== -1) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (data) messages.push(JSON.parse(data) as Record<string, unknown>);
          }
        }
      } catch {
        // aborted
      }
    })();
  }
  return {
    status: res.status,
    headers: res.headers,
    messages,
    done,
    async next(match, timeoutMs = 30_000, from = 0) {
      let found: Record<string, unknown> | undefined;
      await waitFor('an SSE message', () => (found = messages.slice(from).find(match)) !== undefined, timeoutMs);
      return found!;
    },
    close: () => abort.abort(),
  };
}
