/**
 * The detection sessions of one server: created on the registry as pushed cameras `session-<client_id>`, looked up by
 * client id, capped (`maxSessions`), expired when idle (`idleTimeoutMs`: no frame, config update or connection for
 * that long) and removed with their camera. docs/sessions.md.
 */
import { randomUUID } from 'node:crypto';

import type { CameraRegistry } from '../../cameras/registry.js';
import { ConfigError, describeValue } from '../../errors.js';
import type { Stream } from '../../stream.js';
import type { SessionCodec } from './frames.js';
import { Session, sessionError } from './session.js';

/** Bounds of the sessions (docs/sessions.md, "Limits"); every field has a default. */
export interface SessionLimits {
  /** Sessions open at once (more: 503 ERR_CAMTRACK_SESSION_LIMIT). Default 100. */
  maxSessions?: number;
  /** A session with no frame, config update or connection for this long is closed. Default 300,000 ms. */
  idleTimeoutMs?: number;
  /** Largest image a frame may hold, bytes (compressed). Default 4 MiB. */
  maxFrameBytes?: number;
  /** Largest image, width × height, read from its header before decoding (the stream's maxPixels). Default 33,177,600 (8K). */
  maxPixels?: number;
  /** Frames waiting to be decoded per session (the stream's pushQueueSize; the oldest goes when full). Default 4. */
  pushQueueSize?: number;
  /** Messages waiting for a WebSocket client, and the SSE replay window (the oldest go when full). Default 32. */
  outboxSize?: number;
  /** Bytes written to a client's socket and not yet read by it, beyond which the outbox waits. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** SSE keep-alive comment interval, ms. Default 15,000. */
  keepAliveMs?: number;
  /** fps_limit of a session that sets none. Default 30. */
  defaultFpsLimit?: number;
}

export type ResolvedSessionLimits = Required<SessionLimits>;

export const DEFAULT_SESSION_LIMITS: ResolvedSessionLimits = {
  maxSessions: 100,
  idleTimeoutMs: 300_000,
  maxFrameBytes: 4 * 1024 * 1024,
  maxPixels: 7680 * 4320,
  pushQueueSize: 4,
  outboxSize: 32,
  maxBufferedBytes: 1024 * 1024,
  keepAliveMs: 15_000,
  defaultFpsLimit: 30,
};

/** The limits with defaults filled; a bad value is a ConfigError at `limits.<name>`. */
export function resolveSessionLimits(limits: SessionLimits = {}): ResolvedSessionLimits {
  const out = { ...DEFAULT_SESSION_LIMITS };
  for (const [k, v] of Object.entries(limits)) {
    if (v === undefined) continue;
    if (!(k in out)) throw new ConfigError(`limits.${k}`, `Unknown session limit; accepted: ${Object.keys(out).join(', ')}`);
    const zeroOk = k === 'defaultFpsLimit';
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) {
      throw new ConfigError(`limits.${k}`, `Expected ${zeroOk ? 'number >= 0' : 'number > 0'} but received ${describeValue(v)}`);
    }
    out[k as keyof ResolvedSessionLimits] = v;
  }
  return out;
}

/** The largest WebSocket message a session takes: a base64 frame of maxFrameBytes with its JSON around it. */
export function sessionMaxMessageBytes(limits: SessionLimits = {}): number {
  const { maxFrameBytes } = resolveSessionLimits(limits);
  return Math.ceil((maxFrameBytes * 4) / 3) + 64 * 1024;
}

/**
 * The `maxPayload` for @fastify/websocket: twice sessionMaxMessageBytes(), so a frame somewhat over the limit is
 * answered with an error message (ERR_CAMTRACK_BAD_FRAME) on an open socket. A message over maxPayload itself is
 * refused by ws, which closes the socket (1009, message too big) before any route sees it.
 */
export function sessionWebSocketMaxPayload(limits: SessionLimits = {}): number {
  return 2 * sessionMaxMessageBytes(limits);
}

/** What a new session starts with (wire names; each optional). */
export interface NewSessionOptions {
  transport: 'websocket' | 'sse';
  codec?: SessionCodec;
  config?: Record<string, unknown>;
  /** What errors about `config` call it: 'config' (a JSON body), 'query' (the WebSocket URL's query). */
  configPath?: string;
}

export class SessionTable {
  readonly limits: ResolvedSessionLimits;
  readonly #registry: CameraRegistry;
  readonly #model: string | undefined;
  readonly #sessions = new Map<string, Session>();
  #creating = 0;
  #expired = 0;
  #closed = false;
  readonly #sweep: NodeJS.Timeout;

  constructor(registry: CameraRegistry, model: string | undefined, limits: SessionLimits = {}) {
    this.#registry = registry;
    this.#model = model;
    this.limits = resolveSessionLimits(limits);
    const every = Math.max(50, Math.min(5_000, this.limits.idleTimeoutMs / 4));
    this.#sweep = setInterval(() => this.#expire(), every).unref();
  }

  get size(): number {
    return this.#sessions.size;
  }
  /** Sessions closed because they were idle, since the start. */
  get expired(): number {
    return this.#expired;
  }
  get(clientId: string): Session | undefined {
    return this.#sessions.get(clientId);
  }
  /** The session, or ERR_CAMTRACK_SESSION_NOT_FOUND. */
  require(clientId: string): Session {
    const s = this.#sessions.get(clientId);
    if (!s) {
      throw sessionError(
        `no session ${JSON.stringify(clientId.slice(0, 64))}`,
        'ERR_CAMTRACK_SESSION_NOT_FOUND',
        `create one with POST /stream/sessions; sessions idle for ${this.limits.idleTimeoutMs / 1000} s are closed`,
      );
    }
    return s;
  }
  list(): Session[] {
    return [...this.#sessions.values()];
  }

  /**
   * Opens a session: a pushed camera on the registry (its model's pipeline starts with the first one). The initial
   * config (`fps_limit`, `confidence_threshold`, `enable_tracking`, …) is applied as a config update would be, so a
   * bad value is a ConfigError naming it, and nothing is left open.
   */
  async create(options: NewSessionOptions): Promise<Session> {
    if (this.#closed) throw sessionError('the server is shutting down', 'ERR_CAMTRACK_SESSION_LIMIT', 'retry on another server');
    if (this.#sessions.size + this.#creating >= this.limits.maxSessions) {
      throw sessionError(
        `${this.limits.maxSessions} sessions are open, the most this server takes`,
        'ERR_CAMTRACK_SESSION_LIMIT',
        'close sessions you no longer use (DELETE /stream/sessions/{client_id}) or retry later',
      );
    }
    const clientId = randomUUID();
    const codec = options.codec ?? 'jpeg';
    this.#creating++;
    let stream: Stream;
    try {
      stream = await this.#registry.add({
        id: `session-${clientId}`,
        input: 'push',
        codec,
        live: true,
        pushQueueSize: this.limits.pushQueueSize,
        maxPixels: this.limits.maxPixels,
        ...(this.#model !== undefined ? { model: this.#model } : {}),
      });
    } finally {
      this.#creating--;
    }
    const session = new Session(clientId, options.transport, stream, this.limits.defaultFpsLimit, {
      codec,
      maxFrameBytes: this.limits.maxFrameBytes,
      outboxSize: this.limits.outboxSize,
      maxBufferedBytes: this.limits.maxBufferedBytes,
    });
    try {
      if (options.config && Object.keys(options.config).length > 0) session.configure(options.config, options.configPath ?? 'config');
    } catch (err) {
      await this.#registry.remove(stream.id).catch(() => undefined);
      throw err;
    }
    // A stream that ends by itself (its pipeline failed) ends the session.
    void stream.whenEnded().then(() => this.#drop(session, 'the session stream ended'));
    if (this.#closed) {
      await this.#registry.remove(stream.id).catch(() => undefined);
      throw sessionError('the server is shutting down', 'ERR_CAMTRACK_SESSION_LIMIT', 'retry on another server');
    }
    this.#sessions.set(clientId, session);
    return session;
  }

  /** Closes a session and removes its camera. Resolves false when there is none. */
  async remove(clientId: string, reason = 'session deleted'): Promise<boolean> {
    const s = this.#sessions.get(clientId);
    if (!s) return false;
    await this.#drop(s, reason);
    return true;
  }

  /** Closes every session (server shutdown). The registry itself is its owner's to close. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    await Promise.all(this.list().map((s) => this.#drop(s, 'server shutting down')));
  }

  async #drop(s: Session, reason: string): Promise<void> {
    if (this.#sessions.get(s.clientId) === s) this.#sessions.delete(s.clientId);
    s.close(reason);
    if (!this.#registry.closed) await this.#registry.remove(s.stream.id).catch(() => undefined);
  }

  #expire(): void {
    for (const s of this.list()) {
      if (s.idleMs >= this.limits.idleTimeoutMs) {
        this.#expired++;
        void this.#drop(s, `idle for ${Math.round(s.idleMs / 1000)} s`);
      }
    }
  }
}
