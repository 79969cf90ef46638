/**
 * Detection-session tests (test/e2e/sessions-*.test.ts): a real fastify server on a free loopback port with
 * @fastify/websocket registered as the app does and the sessions plugin on a real CameraRegistry (onnxruntime, a
 * shared model); JPEG frames made from a shared clip with the ffmpeg CLI; real clients: `ws`, and an SSE reader over
 * fetch.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import WebSocket from 'ws';

import { CameraRegistry } from '../../dist/cameras/registry.js';
import sessionRoutes, { sessionWebSocketMaxPayload } from '../../dist/server/routes/sessions.js';
import type { SessionLimits } from '../../dist/server/sessions/table.js';
import { assetPath } from './assets.js';

export const SESSION_MODEL = 'models/yolo11n_int8_320.onnx';
export const WALKING = 'videos/walking.mp4';

export interface SessionServer {
  app: FastifyInstance;
  registry: CameraRegistry;
  /** http://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

export async function startSessionServer(limits: SessionLimits = {}, maxPayload = sessionWebSocketMaxPayload(limits)): Promise<SessionServer> {
  const registry = await CameraRegistry.create({ model: assetPath(SESSION_MODEL), streams: [] });
  const app = Fastify({ logger: false });
  await app.register(fastifyWebsocket, { options: { maxPayload } });
  await app.register(sessionRoutes, { registry, limits });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    registry,
    url,
    async close() {
      await app.close();
      await registry.close();
    },
  };
}

/** `count` frames of the clip (from `start` s), JPEG-encoded by FFmpeg's mjpeg encoder at `-q:v 4`, in order. */
export function clipJpegs(dir: string, count: number, scale = '1280:720', start = 2): Buffer[] {
  execFileSync(
    process.env.FFMPEG_PATH || 'ffmpeg',
    ['-nostdin', '-v', 'error', '-y', '-ss', String(start), '-i', assetPath(WALKING), '-frames:v', String(count), '-vf', `scale=${scale}`, '-c:v', 'mjpeg', '-q:v', '4', path.join(dir, '%03d.jpg')],
    { timeout: 120_000 },
  );
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f)));
}

export interface Message {
  type: string;
  [k: string]: unknown;
}

/** A `ws` client that keeps every message and waits for those it needs. */
export class WsClient {
  readonly socket: WebSocket;
  readonly messages: Message[] = [];
  closed: { code: number; reason: string } | undefined;
  #waiters = new Set<() => void>();

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data, isBinary) => {
      if (!isBinary) this.messages.push(JSON.parse(String(data)) as Message);
      this.#wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.#wake();
    });
  }

  static async connect(url: string): Promise<WsClient> {
    const socket = new WebSocket(url);
    const client = new WsClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    return client;
  }

  get clientId(): string {
    return this.messages.find((m) => m.type === 'session')!.client_id as string;
  }
  results(): { frame_id: number; detections: { label: string; score: number }[]; tracks: unknown[]; metadata: unknown }[] {
    return this.messages.filter((m) => m.type === 'detection_result').map((m) => m.data as never);
  }
  errors(): { error: string; error_code: string; hint: string | null; frame_id: number | null }[] {
    return this.messages.filter((m) => m.type === 'error') as never;
  }
  sendJson(m: unknown): void {
    this.socket.send(JSON.stringify(m));
  }
  sendFrame(jpeg: Buffer, frameId: number, metadata?: Record<string, unknown>): void {
    this.sendJson({ type: 'frame', image_data: jpeg.toString('base64'), frame_id: frameId, timestamp: Date.now() / 1000, metadata });
  }

  /** Resolves once `pred()` holds (checked on every message and close); rejects after `timeoutMs`. */
  async until(pred: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    if (pred()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; last messages: ${JSON.stringify(this.messages.slice(-3)).slice(0, 600)}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }
  close(): void {
    this.socket.close();
  }
  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}

export interface SseEvent {
  id: string | undefined;
  data: Message;
}

/** Server-sent events read over fetch: events (id + JSON data) and comment lines, parsed as the SSE spec says. */
export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  #abort = new AbortController();
  #waiters = new Set<() => void>();
  done: Promise<void> = Promise.resolve();

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const r = new SseReader();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: r.#abort.signal });
    r.status = res.status;
    if (!res.ok || !res.body) return r;
    r.done = r.#read(res.body).catch(() => undefined);
    return r;
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of body) {
      buf += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let id: string | undefined;
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
          else if (line.startsWith('id:')) id = line.slice(3).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length > 0) this.events.push({ id, data: JSON.parse(data.join('\n')) as Message });
      }
      for (const w of [...this.#waiters]) w();
    }
  }

  async until(pred: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    if (pred()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; ${this.events.length} events`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }
  close(): void {
    this.#abort.abort();
  }
}

/** Polls `fn` until it returns true (event-driven waits are not available for server-side counters). */
export async function eventually(fn: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function getJson<T = Record<string, unknown>>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}
