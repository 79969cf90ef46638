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
import { normaliseOutputs, normaliseRedisOptions, type CameraRegistryConfig } from '../config.js';
import { LatestAnalytics } from '../sinks/analytics-latest.js';
import { AnalyticsCountStore } from '../sinks/analytics-store.js';
import { AnalyticsOutputs } from '../sinks/outputs.js';
import type { CamtrackError } from '../errors.js';
import { RedisSink } from '../sinks/redis.js';
import { PulledCameras } from '../sources/pulled.js';
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
  let cfg: CameraRegistryConfig | undefined;
  let section: Record<string, unknown> = {};
  if (o.config !== undefined) {
    const { redis, ...rest } = await loadConfigFile(o.config);
    section = (redis ?? {}) as Record<string, unknown>;
    cfg = rest as CameraRegistryConfig;
  } else if (o.model !== undefined) {
    cfg = { model: o.model };
  }
  // The config's cameras: `input: 'push'` ones are read from Redis (their entries are their options), the others
  // (a url) are pulled by the workers themselves.
  const all = cfg?.streams ?? [];
  const pushedCameras = all.filter((c) => (c as { input?: string }).input === 'push');
  const pulledCameras = all.filter((c) => (c as { input?: string }).input !== 'push');
  for (const c of pushedCameras) {
    if ((c as { feed?: unknown }).feed !== undefined) {
      throw new UsageError(`camera ${JSON.stringify(c.id)}: a feed is for camtrack run; camtrack worker reads pushed cameras from Redis`);
    }
  }
  const input = { ...((section.input ?? {}) as Record<string, unknown>) };
  const listed = [...((input.cameras as string[] | undefined) ?? []), ...(o.cameras ?? []), ...pushedCameras.map((c) => c.id)];
  if (listed.length > 0) input.cameras = [...new Set(listed)];
  if (o.discover !== undefined) {
    input.discover = true;
    if (o.discover !== true) input.key = o.discover;
  }
  if (o.group !== undefined) input.group = o.group;
  if (o.maxFrameAge !== undefined) input.maxFrameAgeMs = Math.round(o.maxFrameAge * 1000);
  const redis = normaliseRedisOptions({ ...section, ...(o.redis !== undefined ? { url: o.redis } : {}), input });
  const pushed = redis.input.cameras.length > 0 || redis.input.discover;
  if (!pushed && pulledCameras.length === 0) {
    throw new UsageError(
      'Expected cameras: --cameras a,b or --discover [PATTERN] (frames read from Redis), or `streams` in --config (cameras the workers pull)',
    );
  }
  const consumer = o.consumer;

  let worker: RedisWorker | undefined;
  let pulled: PulledCameras | undefined;
  let sink: RedisSink | undefined;
  let outputs: AnalyticsOutputs | undefined;
  let counts: AnalyticsCountStore | undefined;
  const warn = (err: CamtrackError): void => void process.stderr.write(JSON.stringify(toWireErrorMessage('warning', null, err)) + '\n');
  const onEvent = (e: CameraEvent): void => {
    if (e.type === 'state') process.stderr.write(JSON.stringify(toWireStateMessage(e.cameraId, e.change)) + '\n');
    else if (e.type === 'warning' || e.type === 'error') process.stderr.write(JSON.stringify(toWireErrorMessage(e.type, e.cameraId, e.error)) + '\n');
  };
  try {
    if (pushed) {
      worker = await RedisWorker.create({
        redis,
        processor: cfg ? { ...cfg, streams: pushedCameras } : 'null',
        nullDelayMs: o.delayMs,
        ...(consumer !== undefined ? { consumer } : {}),
      });
      worker.on('warning', warn);
      worker.on('event', onEvent);
    }
    if (pulledCameras.length > 0) {
      sink = worker?.sink ?? (await RedisSink.create(redis));
      if (!worker) sink.on('warning', warn);
      pulled = await PulledCameras.create({ ...cfg!, streams: pulledCameras }, sink, consumer);
      pulled.registry.on('event', onEvent);
      // Analytics events of the pulled cameras to webhooks / MQTT (the pushed ones': RedisWorker does it).
      outputs = new AnalyticsOutputs(normaliseOutputs(cfg!.outputs), warn);
      outputs.attach(pulled.registry);
      // Their cumulative analytics counts kept in Redis (redis.counts), as RedisWorker keeps its cameras'.
      if (redis.counts.enabled) {
        counts = await AnalyticsCountStore.create(redis, new LatestAnalytics(pulled.registry));
        counts.on('warning', warn);
        counts.attach(pulled.registry);
      }
    }
  } catch (err) {
    await worker?.stop(0);
    if (!worker) await sink?.close();
    await outputs?.close();
    await counts?.close();
    throw err;
  }
  const started = performance.now();
  await worker?.start();
  await pulled?.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    if (o.duration > 0) setTimeout(resolve, o.duration * 1000).unref();
  });
  await pulled?.stop();
  await counts?.close();
  await outputs?.close(redis.closeTimeoutMs);
  if (worker) await worker.stop(redis.closeTimeoutMs);
  else await sink?.close();
  const seconds = (performance.now() - started) / 1000;
  const s = worker?.stats();
  const p = pulled?.stats();
  const out = sink?.stats() ?? s?.sink;
  if (o.json) {
    process.stdout.write(JSON.stringify({ ...(s ? summaryJson(s, seconds) : { seconds: Number(seconds.toFixed(3)) }), ...(p ? { pulled: p } : {}), ...(!s && out ? { sink: out } : {}) }) + '\n');
  } else {
    const parts: string[] = [];
    if (s) parts.push(formatWorkerSummary(s, seconds));
    if (p) {
      const cams = Object.entries(p.cameras);
      parts.push(
        `camtrack worker: pulled cameras ${cams.length}, leased here ${cams.filter(([, c]) => c.leased > 0).map(([id, c]) => `${id}×${c.leased}`).join(' ') || 'none'}, ` +
          `results ${cams.reduce((n, [, c]) => n + c.results, 0)}; written ${out?.written ?? 0}, fenced ${out?.dropped.fenced ?? 0}`,
      );
    }
    process.stdout.write(parts.join('\n') + '\n');
  }
  return 0;
}
