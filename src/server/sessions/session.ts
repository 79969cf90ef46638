/**
 * One detection session (docs/sessions.md): a pushed stream (`session-<client_id>`, input 'push', live) on the
 * registry's pipeline, the per-session rate limit, the bounded outbox towards its client and the accounting that
 * says where each frame the client sent went: a result, or a drop with its cause.
 *
 * Frames: checked in JS (frames.ts), then their compressed bytes are pushed as they are (not copied; decoded
 * natively at the model's DCT scale). Results: each becomes one `detection_result` message in the outbox; the
 * outbox is written to the attached writer (a WebSocket or an SSE response) while the writer's own buffer is under
 * `maxBufferedBytes`, and again when it drains. So neither a slow nor a vanished client holds more than the outbox's
 * bound plus that many bytes, and the stream's results never wait for it (the pipeline delivers to the outbox).
 */
import { CamtrackError, ConfigError, describeValue, type CamtrackErrorCode } from '../../errors.js';
import type { Stream } from '../../stream.js';
import type { FrameResult, PushedFrameError } from '../../types.js';
import { isObject } from '../../validate.js';
import { configureFromWire } from '../../wire/config.js';
import {
  toWireDetectionResult,
  toWireSessionError,
  type WireSessionConfig,
  type WireSessionMessage,
  type WireSessionStats,
} from '../../wire/session.js';
import type { CheckedFrame, SessionCodec } from './frames.js';
import { Outbox, RateLimiter, type OutboxEntry } from './outbox.js';

/** Where a session's messages are written: a WebSocket or an SSE response. */
export interface SessionWriter {
  /** Writes one message (entry.id is its SSE event id). */
  write(entry: OutboxEntry): void;
  /** Bytes written and not yet taken by the client (ws bufferedAmount, the response's writableLength). */
  buffered(): number;
  /** Ends the connection (the session is closing). */
  close(reason: string): void;
}

/** What became of one frame handed to {@link Session#receive}. */
export interface FrameAck {
  frame_id: number | null;
  /** The frame went to the pipeline (its result, or a counted drop, follows). */
  queued: boolean;
  /** Why it did not: 'rate' (over fps_limit). */
  dropped: 'rate' | null;
}

export interface SessionSettings {
  codec: SessionCodec;
  maxFrameBytes: number;
  outboxSize: number;
  maxBufferedBytes: number;
}

export class Session {
  readonly clientId: string;
  readonly transport: 'websocket' | 'sse';
  readonly stream: Stream;
  readonly codec: SessionCodec;
  readonly createdAt = Date.now();
  readonly #settings: SessionSettings;
  readonly #rate: RateLimiter;
  readonly #outbox: Outbox;
  #writer: SessionWriter | undefined;
  #lastActivity = performance.now();
  #closed = false;
  #received = 0;
  #invalid = 0;
  #rateDropped = 0;
  #pushed = 0;
  #produced = 0;
  #errorsSent = 0;
  #messagesRejected = 0;

  constructor(clientId: string, transport: 'websocket' | 'sse', stream: Stream, fpsLimit: number, settings: SessionSettings) {
    this.clientId = clientId;
    this.transport = transport;
    this.stream = stream;
    this.codec = settings.codec;
    this.#settings = settings;
    this.#rate = new RateLimiter(fpsLimit);
    // SSE keeps what it wrote, as the replay window of Last-Event-ID.
    this.#outbox = new Outbox(settings.outboxSize, transport === 'sse');
    stream.on('result', (r: FrameResult) => this.#onResult(r));
    stream.on('warning', (e: CamtrackError) => {
      const frame = (e as Partial<PushedFrameError>).frame;
      if (frame) this.sendError(e, frame.frameId ?? null);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }
  get connected(): boolean {
    return this.#writer !== undefined;
  }
  /** ms since the last frame, config update or connection. */
  get idleMs(): number {
    return performance.now() - this.#lastActivity;
  }
  touch(): void {
    this.#lastActivity = performance.now();
  }

  /** The session's live options as clients name them. */
  get config(): WireSessionConfig {
    const o = this.stream.options;
    return { fps_limit: this.#rate.fps, confidence_threshold: o.detection.scoreThreshold, enable_tracking: o.tracker.type !== 'none' };
  }

  /** The greeting of a WebSocket session. */
  greeting(): WireSessionMessage {
    return { type: 'session', client_id: this.clientId, config: this.config };
  }

  /**
   * One frame from the client: `check` turns the message into bytes and tags (throwing ERR_CAMTRACK_BAD_FRAME);
   * then the rate limit, then the push. Counted in every case. Throws the check's error (counted as `invalid`).
   */
  receive(check: () => CheckedFrame): FrameAck {
    this.#received++;
    this.touch();
    let frame: CheckedFrame;
    try {
      frame = check();
    } catch (err) {
      this.#invalid++;
      throw err;
    }
    const frame_id = frame.frameId ?? null;
    if (!this.#rate.take()) {
      this.#rateDropped++;
      return { frame_id, queued: false, dropped: 'rate' };
    }
    try {
      this.stream.push(frame.bytes, {
        ...(frame.frameId !== undefined ? { frameId: frame.frameId } : {}),
        ...(frame.metadata !== undefined ? { meta: frame.metadata } : {}),
      });
    } catch (err) {
      this.#invalid++;
      throw err;
    }
    this.#pushed++;
    return { frame_id, queued: true, dropped: null };
  }

  /**
   * A config update (`{ fps_limit, confidence_threshold, enable_tracking, … }`, the wire names of src/wire/config.ts):
   * fps_limit is the session's rate limit, the others go to stream.configure(). All or nothing: a bad value throws
   * a ConfigError naming `<path>.<wire name>` and changes nothing. Returns the config now in effect.
   */
  configure(config: unknown, path = 'config'): WireSessionConfig {
    if (!isObject(config)) throw new ConfigError(path, `Expected object of live options but received ${describeValue(config)}`);
    this.touch();
    const { fps_limit: fps, ...rest } = config;
    if (fps !== undefined && (typeof fps !== 'number' || !Number.isFinite(fps) || fps < 0 || fps > 1000)) {
      throw new ConfigError(`${path}.fps_limit`, `Expected number between 0 and 1000 but received ${describeValue(fps)}`, '0 = no limit');
    }
    if (Object.keys(rest).length > 0) configureFromWire(this.stream, rest, path);
    if (typeof fps === 'number') this.#rate.set(fps);
    return this.config;
  }

  /** A frame refused before it could be read (over the body limit, not parsed): counted as received and `invalid`. */
  countInvalidFrame(): void {
    this.#received++;
    this.#invalid++;
    this.touch();
  }

  /** A message that was no frame and no valid config update (malformed JSON, unknown type, bad config). */
  countRejectedMessage(): void {
    this.#messagesRejected++;
  }

  /** Queues an error message for the client (about frame `frameId`, or null). */
  sendError(err: { message: string; code: CamtrackErrorCode | string; hint?: string }, frameId: number | null): void {
    if (this.#closed) return;
    this.#errorsSent++;
    const e = { message: err.message, code: err.code as CamtrackErrorCode, ...(err.hint !== undefined ? { hint: err.hint } : {}) };
    this.#outbox.add(JSON.stringify(toWireSessionError(e, frameId)), false);
    this.flush();
  }

  /** Queues any message (the greeting). */
  send(message: object): void {
    this.#outbox.add(JSON.stringify(message), false);
    this.flush();
  }

  /**
   * Attaches the client's connection (replacing a previous one, which is closed). `lastEventId` (SSE): resume after
   * it; returns false when some messages after it already left the replay window.
   */
  attach(writer: SessionWriter, lastEventId?: number): boolean {
    if (this.#writer && this.#writer !== writer) this.#writer.close('replaced by a new connection');
    this.#writer = writer;
    this.touch();
    const complete = this.#outbox.resume(lastEventId);
    this.flush();
    return complete;
  }

  /** The connection went away (the session stays until it is deleted or expires). */
  detach(writer: SessionWriter): void {
    if (this.#writer === writer) this.#writer = undefined;
  }

  /** Writes waiting messages while the writer's buffer is under the bound. Called on each message and on 'drain'. */
  flush(): void {
    const w = this.#writer;
    if (!w) return;
    while (w.buffered() < this.#settings.maxBufferedBytes) {
      const e = this.#outbox.take();
      if (!e) return;
      w.write(e);
    }
  }

  /** Closes the connection; the owner (SessionTable) removes the stream. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer?.close(reason);
    this.#writer = undefined;
  }

  stats(): WireSessionStats {
    const s = this.stream.stats();
    const p = s.push;
    const rejected = p ? Object.values(p.rejected).reduce((a, b) => a + b, 0) : 0;
    const dropped = {
      invalid: this.#invalid,
      rate: this.#rateDropped,
      queue: p?.dropped.queue ?? 0,
      decode: rejected,
      busy: s.dropped.busy + s.dropped.fpsLimit,
      inference: s.dropped.inference,
      consumer: s.dropped.consumer,
      outbox: this.#outbox.resultsDropped,
    };
    const settled = this.#produced + dropped.queue + dropped.decode + dropped.busy + dropped.inference + dropped.consumer;
    return {
      client_id: this.clientId,
      transport: this.transport,
      connected: this.connected,
      created_at: Math.round(this.createdAt) / 1000,
      idle_ms: Math.round(this.idleMs),
      config: this.config,
      frames_received: this.#received,
      frames_pushed: this.#pushed,
      results_produced: this.#produced,
      results_sent: this.#outbox.resultsSent,
      in_flight: Math.max(0, this.#pushed - settled),
      outbox: this.#outbox.pending,
      buffered_bytes: this.#writer?.buffered() ?? 0,
      errors_sent: this.#errorsSent,
      messages_rejected: this.#messagesRejected,
      dropped,
    };
  }

  #onResult(r: FrameResult): void {
    if (this.#closed) return;
    this.#produced++;
    this.#outbox.add(JSON.stringify(toWireDetectionResult(r)), true);
    this.flush();
  }
}

/** A CamtrackError of a session, with a hint. */
export function sessionError(message: string, code: CamtrackErrorCode, hint: string): CamtrackError {
  return new CamtrackError(message, code, { stage: 'session', hint });
}
