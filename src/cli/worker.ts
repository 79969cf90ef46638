/**
 * `camtrack worker --redis URL (--model M | --config F | --no-inference) [--cameras a,b | --discover [PATTERN]]
 * [--group G] [--consumer NAME] [--max-frame-age S] [--duration S] [--json]`: reads camera frames from Redis
 * Streams (`camera_{id}_input`, consumer group `inference_consumer_{id}`), processes them, writes each result to
 * `camera_{id}_output` and acknowledges its input entry after that write (src/sources/worker.ts, docs/redis.md).
 * Runs until SIGINT/SIGTERM or --duration: then stops reading, lets the frames in flight finish (written and
 * acknowledged, within redis.closeTimeoutMs), and prints one summary line (JSON with --json): per camera, entries
 * read, results written, drops by cause. Exit code 0 after a clean stop.
 */
import type { CameraEvent } from '../cameras/registry.js';
import { normaliseRedisOptions, type CameraRegistryConfig } from '../config.js';
import type { CamtrackError } from '../errors.js';
import { RedisWorker, type RedisWorkerStats } from '../sources/worker.js';
import { toWireErrorMessage, toWireStateMessage } from '../wire/index.js';
import { UsageError } from './args.js';
import { loadConfigFile } from './run.js';

/** Options of `camtrack worker` (declared in main.ts). */
export interface WorkerOptions {
  redis?: string;
  model?: string;
  config?: string;
  /** false with --no-inference. */
  inference: boolean;
  cameras?: string[];
  /** true for a bare --discover (the key pattern), or the pattern. */
  discover?: string | true;
  group?: string;
  consumer?: string;
  /** Seconds. */
  maxFrameAge?: number;
  /** Seconds; 0 = until a signal. */
  duration: number;
  /** With --no-inference: ms between a frame and its result. */
  delayMs: number;
  json?: boolean;
}

/** The summary line of a worker. */
export function formatWorkerSummary(s: RedisWorkerStats, seconds: number): string {
  const cams = Object.values(s.cameras);
  const sum = (f: (c: (typeof cams)[number]) => number): number => cams.reduce((a, c) => a + f(c), 0);
  const d = { stale: 0, malformed: 0, decode: 0, pipeline: 0, unwritten: 0, deleted: 0, fenced: 0 };
  for (const c of cams) for (const k of Object.keys(d) as (keyof typeof d)[]) d[k] += c.dropped[k];
  const dropped = Object.values(d).reduce((a, b) => a + b, 0);
  return (
    `camtrack worker: ${s.consumer} on ${s.url}, ${seconds.toFixed(1)} s, ${cams.length} cameras: read ${sum((c) => c.read)} ` +
    `(claimed ${sum((c) => c.claimed)}), written ${sum((c) => c.written)}, dropped ${dropped} ` +
    `(${Object.entries(d).map(([k, v]) => `${k} ${v}`).join(', ')}), in flight ${sum((c) => c.inFlight)}; ` +
    `redis reconnects ${s.sink.reconnects}, retried ${s.sink.retried}`
  );
}

/** The JSON summary: per camera and in total. */
function summaryJson(s: RedisWorkerStats, seconds: number): Record<string, unknown> {
  return {
    consumer: s.consumer,
    url: s.url,
    seconds: Number(seconds.toFixed(3)),
    cameras: s.cameras,
    sink: { written: s.sink.written, retried: s.sink.retried, reconnects: s.sink.reconnects, dropped: s.sink.dropped, events: s.sink.events },
    source: { reconnects: s.source.reconnects, polls: s.source.polls, waits: s.source.waits, trimmed: s.source.trimmed },
    ...(s.source.leases ? { leases: s.source.leases } : {}),
  };
}

export async function runWorker(o: WorkerOptions): Promise<number> {
  const modes = [o.model !== undefined, o.config !== undefined, !o.inference].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('Expected exactly one of --model, --config or --no-inference');
  let registry: CameraRegistryConfig | 'null' = 'null';
  let section: Record<string, unknown> = {};
  if (o.config !== undefined) {
    const cfg = await loadConfigFile(o.config);
    const { redis, ...rest } = cfg;
    section = (redis ?? {}) as Record<string, unknown>;
    registry = rest as CameraRegistryConfig;
  } else if (o.model !== undefined) {
    registry = { model: o.model };
  }
  const input = { ...((section.input ?? {}) as Record<string, unknown>) };
  if (o.cameras) input.cameras = o.cameras;
  if (o.discover !== undefined) {
    input.discover = true;
    if (o.discover !== true) input.key = o.discover;
  }
  if (o.group !== undefined) input.group = o.group;
  if (o.maxFrameAge !== undefined) input.maxFrameAgeMs = Math.round(o.maxFrameAge * 1000);
  const redis = normaliseRedisOptions({ ...section, ...(o.redis !== undefined ? { url: o.redis } : {}), input });
  if (redis.input.cameras.length === 0 && !redis.input.discover) {
    throw new UsageError('Expected cameras to read: --cameras a,b, --discover [PATTERN], or redis.input.cameras / discover in the config');
  }

  const worker = await RedisWorker.create({
    redis,
    processor: registry,
    nullDelayMs: o.delayMs,
    ...(o.consumer !== undefined ? { consumer: o.consumer } : {}),
  });
  worker.on('warning', (err: CamtrackError) => process.stderr.write(JSON.stringify(toWireErrorMessage('warning', null, err)) + '\n'));
  worker.on('event', (e: CameraEvent) => {
    if (e.type === 'state') process.stderr.write(JSON.stringify(toWireStateMessage(e.cameraId, e.change)) + '\n');
    else if (e.type === 'warning' || e.type === 'error') process.stderr.write(JSON.stringify(toWireErrorMessage(e.type, e.cameraId, e.error)) + '\n');
  });
  const started = performance.now();
  await worker.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    if (o.duration > 0) setTimeout(resolve, o.duration * 1000).unref();
  });
  await worker.stop(redis.closeTimeoutMs);
  const seconds = (performance.now() - started) / 1000;
  const s = worker.stats();
  process.stdout.write((o.json ? JSON.stringify(summaryJson(s, seconds)) : formatWorkerSummary(s, seconds)) + '\n');
  return 0;
}
