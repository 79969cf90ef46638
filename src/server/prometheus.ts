/**
 * Prometheus metrics of `camtrack serve` (GET /metrics, docs/serve.md "Metrics"): read from the native counters and
 * histograms (CameraRegistry#stats(): the pipelines' and streams' stats) at scrape time, in prom-client collect()
 * callbacks; nothing runs per frame. Per camera: label `camera`; per pipeline: label `model`. A removed camera's
 * series are removed (prom-client remove()) at the next scrape, so they disappear from the output.
 *
 * The native counters are totals; prom-client counters only go up by inc(), so each is advanced by the difference
 * to the total it showed last (a camera re-added with the same id starts its series again). The latency histogram's
 * buckets are the native ones as they are (cumulative counts per `le`), exposed by a small collector object that
 * prom-client's registry serialises like its own histograms.
 */
import { Counter, Gauge, Registry } from 'prom-client';

import type { CameraRegistry, CameraRegistryStats } from '../cameras/registry.js';
import type { BreakerReason, BreakerState, StreamState } from '../types.js';
import type { LatestAnalytics } from '../sinks/analytics-latest.js';
import type { ResultFeed } from './result-feed.js';
import type { ModelBoard } from './readiness.js';

const STATES: readonly StreamState[] = ['connecting', 'live', 'stalled', 'reconnecting', 'ended', 'failed', 'stopped'];
const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half-open'];
/** Each transition reason with the state it enters (docs/scheduling.md "Circuit breaker"). */
const BREAKER_REASONS: readonly [BreakerReason, BreakerState][] = [
  ['consecutive', 'open'],
  ['window', 'open'],
  ['probe-failed', 'open'],
  ['cooldown', 'half-open'],
  ['probe-ok', 'closed'],
];
const DROP_CAUSES = ['busy', 'fpsLimit', 'inference', 'breaker', 'decoderPool', 'consumer'] as const;
const CAUSE_LABEL: Record<(typeof DROP_CAUSES)[number], string> = {
  busy: 'busy',
  fpsLimit: 'fps_limit',
  inference: 'inference',
  breaker: 'breaker',
  decoderPool: 'decoder_pool',
  consumer: 'consumer',
};

type Labels = Record<string, string>;
const key = (labels: Labels): string => JSON.stringify(labels);

/** A prom-client Counter set from totals read at scrape time; series not read any more are removed. */
function totalsCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => [Record<L, string>, number][],
): void {
  const last = new Map<string, { labels: Labels; value: number }>();
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      const seen = new Set<string>();
      for (const [labels, value] of read()) {
        const k = key(labels);
        seen.add(k);
        const prev = last.get(k);
        if (prev && value < prev.value) this.remove(labels as never);
        const delta = prev && value >= prev.value ? value - prev.value : value;
        this.inc(labels as never, delta);
        last.set(k, { labels, value });
      }
      for (const [k, { labels }] of last) {
        if (seen.has(k)) continue;
        this.remove(labels as never);
        last.delete(k);
      }
    },
  });
}

/** A prom-client Gauge set at scrape time from `read`; it starts empty each time, so gone series disappear. */
function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], read: () => [Record<L, string>, number][]): void {
  const known = new Map<string, Labels>();
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      const seen = new Set<string>();
      for (const [labels, value] of read()) {
        const k = key(labels);
        seen.add(k);
        known.set(k, labels);
        this.set(labels as never, value);
      }
      for (const [k, labels] of known) {
        if (seen.has(k)) continue;
        this.remove(labels as never);
        known.delete(k);
      }
    },
  });
}

/** The native latency histogram (ms buckets) of each camera, as camtrack_latency_seconds. */
function latencyHistogram(registry: Registry, snapshot: () => CameraRegistryStats | undefined): void {
  const name = 'camtrack_latency_seconds';
  registry.registerMetric({
    name,
    help: 'Decode to result latency of delivered frames, seconds (the native histogram).',
    type: 'histogram',
    aggregator: 'sum',
    get: async () => {
      const values: { metricName: string; labels: Labels; value: number }[] = [];
      for (const s of snapshot()?.cameras ?? []) {
        const h = s.latencyHistogram;
        h.boundsMs.forEach((b, i) => values.push({ metricName: `${name}_bucket`, labels: { camera: s.id, le: String(b / 1000) }, value: h.counts[i] ?? 0 }));
        values.push({ metricName: `${name}_bucket`, labels: { camera: s.id, le: '+Inf' }, value: h.count });
        values.push({ metricName: `${name}_sum`, labels: { camera: s.id }, value: h.sumMs / 1000 });
        values.push({ metricName: `${name}_count`, labels: { camera: s.id }, value: h.count });
      }
      return { name, help: 'Decode to result latency of delivered frames, seconds (the native histogram).', type: 'histogram', values, aggregator: 'sum' };
    },
  } as never);
}

/**
 * The service's metrics registry: every camtrack_* metric, read from `cameras`, `feed` and `board` at scrape time.
 * `redisCameras()` gives the Redis worker's registry under `--redis` (its cameras are measured like the service's own;
 * its pipelines carry the model label `redis:<model>`, as they are other pipelines than the service's).
 */
export function createMetrics(
  cameras: CameraRegistry,
  feed: ResultFeed,
  board: ModelBoard,
  analytics?: LatestAnalytics,
  redisCameras: () => CameraRegistry | undefined = () => undefined,
): Registry {
  const registry = new Registry();
  // One stats() per scrape: prom-client calls every metric's collect() in one synchronous pass, so the first one
  // reads the stats and the others of that pass reuse them; a microtask forgets them before the next scrape.
  let cached: { stats: CameraRegistryStats | undefined } | undefined;
  const snapshot = (): CameraRegistryStats | undefined => {
    if (!cached) {
      cached = { stats: cameras.closed ? undefined : withRedis(cameras.stats(), redisCameras()) };
      queueMicrotask(() => (cached = undefined));
    }
    return cached.stats;
  };
  const perCamera = (f: (s: CameraRegistryStats['cameras'][number]) => number) => (): [{ camera: string }, number][] =>
    (snapshot()?.cameras ?? []).map((s) => [{ camera: s.id }, f(s)]);
  const perModel = (f: (s: CameraRegistryStats['pipelines'][string]) => number) => (): [{ model: string }, number][] =>
    Object.entries(snapshot()?.pipelines ?? {}).map(([model, s]) => [{ model }, f(s)]);

  totalsCounter(registry, 'camtrack_frames_in_total', 'Video packets received (frames in), over all connections.', ['camera'], perCamera((s) => s.packets));
  totalsCounter(registry, 'camtrack_frames_decoded_total', 'Frames decoded.', ['camera'], perCamera((s) => s.framesDecoded));
  totalsCounter(registry, 'camtrack_frames_delivered_total', 'Frames delivered with their results.', ['camera'], perCamera((s) => s.framesDelivered));
  totalsCounter(registry, 'camtrack_frames_corrupt_total', 'Packets the decoder rejected plus frames flagged corrupt.', ['camera'], perCamera((s) => s.framesCorrupt));
  totalsCounter(registry, 'camtrack_frames_dropped_total', 'Decoded frames never delivered, by cause (docs/ingest.md).', ['camera', 'cause'], () =>
    (snapshot()?.cameras ?? []).flatMap((s) => DROP_CAUSES.map((c): [{ camera: string; cause: string }, number] => [{ camera: s.id, cause: CAUSE_LABEL[c] }, s.dropped[c]])),
  );
  totalsCounter(registry, 'camtrack_reconnects_total', 'Connections brought back after a loss.', ['camera'], perCamera((s) => s.reconnects));
  totalsCounter(registry, 'camtrack_reconnect_attempts_total', 'Connection attempts after a loss.', ['camera'], perCamera((s) => s.reconnectAttempts));
  gauge(registry, 'camtrack_fps', 'Delivered frames per second over the last second.', ['camera'], perCamera((s) => s.fps));
  gauge(registry, 'camtrack_input_fps', 'Decoded frames per second over the last second.', ['camera'], perCamera((s) => s.inputFps));
  gauge(registry, 'camtrack_stream_state', 'The camera stream state: 1 for the current state, 0 for the others.', ['camera', 'state'], () =>
    (snapshot()?.cameras ?? []).flatMap((s) => STATES.map((st): [{ camera: string; state: string }, number] => [{ camera: s.id, state: st }, s.state === st ? 1 : 0])),
  );
  latencyHistogram(registry, snapshot);
  totalsCounter(registry, 'camtrack_batches_total', 'Inference batches run.', ['model'], perModel((s) => s.batches));
  totalsCounter(registry, 'camtrack_batch_images_total', 'Images in inference batches.', ['model'], perModel((s) => s.images));
  totalsCounter(registry, 'camtrack_batches_failed_total', 'Inference batches that failed.', ['model'], perModel((s) => s.failedBatches));
  gauge(registry, 'camtrack_batch_fill_images', 'Mean images per inference batch since the pipeline started.', ['model'], perModel((s) => s.meanBatchFill));
  gauge(registry, 'camtrack_batch_size_images', 'The pipeline batch size (images).', ['model'], perModel((s) => s.batchSize));
  gauge(registry, 'camtrack_inference_seconds_mean', 'Mean inference time per batch since the pipeline started, seconds.', ['model'], perModel((s) => s.meanInferMs / 1000));
  gauge(registry, 'camtrack_frames_in_flight', 'Frames between decode and delivery.', ['model'], perModel((s) => s.inFlight));
  gauge(registry, 'camtrack_breaker_state', "The model's inference circuit breaker: 1 for its current state, 0 for the others.", ['model', 'state'], () =>
    Object.entries(snapshot()?.pipelines ?? {}).flatMap(([model, s]) =>
      BREAKER_STATES.map((st): [{ model: string; state: string }, number] => [{ model, state: st }, s.breaker.state === st ? 1 : 0]),
    ),
  );
  totalsCounter(registry, 'camtrack_breaker_transitions_total', 'Circuit breaker transitions, by the state entered and why.', ['model', 'to', 'reason'], () =>
    Object.entries(snapshot()?.pipelines ?? {}).flatMap(([model, s]) =>
      BREAKER_REASONS.map(([reason, to]): [{ model: string; to: string; reason: string }, number] => [{ model, to, reason }, s.breaker.transitions[reason]]),
    ),
  );
  totalsCounter(registry, 'camtrack_breaker_fallback_frames_total', "Frames the circuit breaker's CPU fallback inferred while the breaker refused them (inference.breaker.fallback).", ['model'], perModel((s) => s.breaker.fallbackFrames));
  totalsCounter(registry, 'camtrack_breaker_fallback_batches_failed_total', "Batches of the circuit breaker's CPU fallback that failed (their frames are dropped, cause breaker).", ['model'], perModel((s) => s.breaker.fallbackFailedBatches));
  gauge(registry, 'camtrack_model_ready', 'Whether the model is usable (loaded, or its file checked and no camera uses it yet).', ['model'], () =>
    cameras.models.map((m) => [{ model: m }, ['available', 'loaded'].includes(board.state(m).state) ? 1 : 0]),
  );
  gauge(registry, 'camtrack_result_readers', 'Open SSE and WebSocket result readers (/api/v1/cameras/{id}/events, /api/v1/results).', [], () => [[{}, feed.stats().readers]]);
  totalsCounter(registry, 'camtrack_result_messages_total', 'Messages written to result readers.', [], () => [[{}, feed.stats().written]]);
  totalsCounter(registry, 'camtrack_result_messages_dropped_total', 'Messages dropped for slow result readers (their bounded queue was full).', [], () => [[{}, feed.stats().dropped]]);
  if (analytics) analyticsMetrics(registry, cameras, analytics);
  return registry;
}

/**
 * Line counts and zone occupancy of the cameras with an `analytics` section (docs/analytics.md): one read of
 * LatestAnalytics per camera and scrape. A reset (DELETE …/analytics) or a changed section lowers a total: the
 * counter's series restarts from it, which Prometheus reads as a counter reset.
 */
function analyticsMetrics(registry: Registry, cameras: CameraRegistry, analytics: LatestAnalytics): void {
  let cached: ReturnType<LatestAnalytics['counts']>[] | undefined;
  const all = (): ReturnType<LatestAnalytics['counts']>[] => {
    if (!cached) {
      cached = [];
      if (!cameras.closed) {
        for (const id of analytics.cameraIds()) {
          try {
            cached.push(analytics.counts(id));
          } catch {
            // removed under us
          }
        }
      }
      queueMicrotask(() => (cached = undefined));
    }
    return cached;
  };
  type LineLabels = { camera: string; line: string; direction: string; class: string };
  totalsCounter(
    registry,
    'camtrack_line_crossings_total',
    'Tracks counted crossing a line, by direction (in/out) and class (docs/analytics.md).',
    ['camera', 'line', 'direction', 'class'],
    () =>
      all().flatMap((c) =>
        Object.entries(c.lines).flatMap(([line, l]) =>
          l.per_class.flatMap((k): [LineLabels, number][] => [
            [{ camera: c.camera_id, line, direction: 'in', class: k.label }, k.in],
            [{ camera: c.camera_id, line, direction: 'out', class: k.label }, k.out],
          ]),
        ),
      ),
  );
  gauge(registry, 'camtrack_zone_occupancy', 'Tracks inside a zone (after its enter/exit inertia) in the newest frame.', ['camera', 'zone'], () =>
    all().flatMap((c) => Object.entries(c.zones).map(([zone, z]): [{ camera: string; zone: string }, number] => [{ camera: c.camera_id, zone }, z.occupancy])),
  );
}

/** The service's stats with the Redis worker's cameras and pipelines added (a camera id in both: the service's wins). */
function withRedis(own: CameraRegistryStats, redis: CameraRegistry | undefined): CameraRegistryStats {
  if (!redis || redis.closed) return own;
  const other = redis.stats();
  const ids = new Set(own.cameras.map((c) => c.id));
  const pipelines = { ...own.pipelines };
  for (const [model, p] of Object.entries(other.pipelines)) pipelines[`redis:${model}`] = p;
  return { pipelines, cameras: [...own.cameras, ...other.cameras.filter((c) => !ids.has(c.id))] };
}
