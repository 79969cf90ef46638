/**
 * gRPC request priority (docs/grpc.md "Priority", docs/scheduling.md "Priorities"), with real @grpc/grpc-js clients
 * over loopback against `camtrack serve` and a real model (onnxruntime):
 *  - under saturation (10 normal cameras, two closed loops each, sending as fast as they are answered), a client whose
 *    ProcessFrame requests say `priority: PRIORITY_HIGH` gets its frames answered faster than the normal ones: the high
 *    requests' latency p99 is below the normal requests' p50. Latency is a frame's time to its answer as a client of a
 *    live camera sees it: from the first send until its result, a frame the live camera dropped (RESOURCE_EXHAUSTED,
 *    ERR_CAMTRACK_RATE_LIMITED) being sent again at once with a new frame_id. Every send is answered or counted: the
 *    server's results_sent and frames_dropped match the clients' counts, and no other error occurs. A control run
 *    (the same load, the "high" client's requests unset) is printed for comparison with
 *    CAMTRACK_GRPC_PRIORITY_CONTROL=1;
 *  - a priority that is not a value of the enum is INVALID_ARGUMENT with ERR_CAMTRACK_INVALID_ARGUMENT, in
 *    ProcessFrame, ProcessFrameBatch (the batch's priority) and ProcessCameraStream (config.priority).
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { bearer, grpcClients, unary, type GrpcClients } from '../helpers/grpc.js';
import { startServe, type TestServer } from '../helpers/serve.js';
import { SESSION_MODEL } from '../helpers/session-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const TOKEN = 'serve-grpc-priority-token-0123456789';
const ZIDANE = 'images/zidane.jpg';
const tmp = lazyTempDir('camtrack-serve-grpc-priority-');

/** Normal cameras, and closed loops per camera (two frames of a camera in flight, so a dropped one is told at once). */
const NORMAL_CAMERAS = 10;
const LOOPS_PER_CAMERA = 2;
/** The high client: one camera, one frame at a time, HIGH_INTERVAL_MS between frames. */
const HIGH_INTERVAL_MS = 100;
const WARMUP_MS = 2_000;
/**
 * The measured window: at least MEASURE_MIN_MS, then until both clients have MIN_SAMPLES answered frames (the shared
 * machine's speed varies several-fold with the other work on it), at most MEASURE_MAX_MS.
 */
const MEASURE_MIN_MS = 8_000;
const MEASURE_MAX_MS = 45_000;
const MIN_SAMPLES = 20;

interface Metrics {
  results_sent: number;
  frames_dropped: number;
  errors: number;
}

interface Tally {
  /** Time to answer of each frame answered in the measured window, ms. */
  latencies: number[];
  answered: number;
  rateLimited: number;
  otherErrors: string[];
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

describeWithAssets('camtrack serve: gRPC request priority', [SESSION_MODEL, ZIDANE], () => {
  let server: TestServer;
  let c: GrpcClients;
  let jpeg: Buffer;
  const auth = () => bearer(TOKEN);
  const metrics = async () => {
    const { value, error } = await unary<Metrics>(c.vision, 'GetEngineMetrics', {}, auth());
    if (error) throw error;
    return value!;
  };

  beforeAll(async () => {
    jpeg = readFileSync(assetPath(ZIDANE));
    server = await startServe({
      model: assetPath(SESSION_MODEL),
      // The starvation bound B (batching.targetLatencyMs; the model has a fixed batch, so no adaptive controller): how
      // long a live high frame waits for a position before it is dropped. 200 ms (the default) is about one inference
      // on this shared 2-core machine when it is loaded; 1 s keeps the high frames from being dropped there.
      batching: { targetLatencyMs: 1000 },
      serve: { token: TOKEN, stateFile: `${tmp()}/cameras.json`, grpc: { port: 0, maxCameras: 64 } },
    });
    c = grpcClients(server.grpc!.port);
  }, 120_000);
  afterAll(async () => {
    c?.close();
    await server?.close();
  });

  /**
   * One frame of `camera` sent until it is answered: dropped sends (RATE_LIMITED) are sent again at once with a new
   * frame_id. Counts every send in `t`; returns the time to the answer, ms.
   */
  const sendUntilAnswered = async (camera: string, ids: { next: number }, priority: string | undefined, t: Tally): Promise<number> => {
    const t0 = performance.now();
    for (;;) {
      const req = { camera_id: camera, frame_id: ids.next++, image: jpeg, ...(priority !== undefined ? { priority } : {}) };
      const { error } = await unary(c.vision, 'ProcessFrame', req, auth(), { deadline: Date.now() + 30_000 });
      if (!error) {
        t.answered++;
        return performance.now() - t0;
      }
      const code = error.metadata.get('camtrack-error-code')[0];
      if (error.code === grpc.status.RESOURCE_EXHAUSTED && code === 'ERR_CAMTRACK_RATE_LIMITED') {
        t.rateLimited++;
        continue;
      }
      t.otherErrors.push(`${error.code} ${String(code)} ${error.details}`);
      return NaN;
    }
  };

  /** The saturating load with one more client ('high' camera) whose requests carry `highPriority`. */
  const run = async (label: string, highPriority: string | undefined) => {
    const before = await metrics();
    const normal: Tally = { latencies: [], answered: 0, rateLimited: 0, otherErrors: [] };
    const high: Tally = { latencies: [], answered: 0, rateLimited: 0, otherErrors: [] };
    const start = performance.now();
    const measuring = () => performance.now() - start >= WARMUP_MS;
    let ended = false;
    const done = () => {
      if (ended) return true;
      const t = performance.now() - start - WARMUP_MS;
      ended = t >= MEASURE_MAX_MS || (t >= MEASURE_MIN_MS && high.latencies.length >= MIN_SAMPLES && normal.latencies.length >= MIN_SAMPLES);
      return ended;
    };
    const loops: Promise<void>[] = [];
    for (let cam = 0; cam < NORMAL_CAMERAS; cam++) {
      const ids = { next: 1 };
      for (let l = 0; l < LOOPS_PER_CAMERA; l++) {
        loops.push(
          (async () => {
            while (!done()) {
              const counted = measuring();
              const ms = await sendUntilAnswered(`${label}-n${cam}`, ids, undefined, normal);
              if (counted && !done() && Number.isFinite(ms)) normal.latencies.push(ms);
            }
          })(),
        );
      }
    }
    loops.push(
      (async () => {
        const ids = { next: 1 };
        while (!done()) {
          const counted = measuring();
          const ms = await sendUntilAnswered(`${label}-high`, ids, highPriority, high);
          if (counted && !done() && Number.isFinite(ms)) high.latencies.push(ms);
          await new Promise((r) => setTimeout(r, HIGH_INTERVAL_MS));
        }
      })(),
    );
    await Promise.all(loops);
    const after = await metrics();
    const figures = {
      measuredMs: Math.round(performance.now() - start - WARMUP_MS),
      high: { p50: +pct(high.latencies, 50).toFixed(1), p99: +pct(high.latencies, 99).toFixed(1), n: high.latencies.length, rateLimited: high.rateLimited },
      normal: { p50: +pct(normal.latencies, 50).toFixed(1), p99: +pct(normal.latencies, 99).toFixed(1), n: normal.latencies.length, rateLimited: normal.rateLimited },
      server: { results_sent: after.results_sent - before.results_sent, frames_dropped: after.frames_dropped - before.frames_dropped },
    };
    console.log(`[grpc-priority] ${label} ${JSON.stringify(figures)}`);
    return { normal, high, before, after, figures };
  };

  it('under saturation, PRIORITY_HIGH requests are answered faster: high p99 < normal p50; every frame answered or counted', async () => {
    const r = await run('prio', 'PRIORITY_HIGH');
    // Every send answered or counted: no other error, and the server's counters say the same as the clients.
    expect(r.normal.otherErrors).toEqual([]);
    expect(r.high.otherErrors).toEqual([]);
    expect(r.after.results_sent - r.before.results_sent).toBe(r.normal.answered + r.high.answered);
    expect(r.after.frames_dropped - r.before.frames_dropped).toBe(r.normal.rateLimited + r.high.rateLimited);
    // Saturated: the normal cameras lost frames to the live policy.
    expect(r.normal.rateLimited).toBeGreaterThan(0);
    expect(r.high.latencies.length).toBeGreaterThanOrEqual(10);
    expect(r.normal.latencies.length).toBeGreaterThanOrEqual(10);
    expect(pct(r.high.latencies, 99)).toBeLessThan(pct(r.normal.latencies, 50));

    // Control: the same load, the "high" client's requests with no priority. Printed, not bounded (one run on a shared
    // machine; docs/grpc.md gives the figures), so only when asked: CAMTRACK_GRPC_PRIORITY_CONTROL=1 (it saturates the
    // machine for another 10–50 s, which CI's time budget does not carry for a figure nobody checks).
    if (process.env.CAMTRACK_GRPC_PRIORITY_CONTROL === '1') await run('control', undefined);
  }, 240_000);

  it('EXPECTED FAILURE - a priority outside the enum is INVALID_ARGUMENT with ERR_CAMTRACK_INVALID_ARGUMENT', async () => {
    const frame = await unary(c.vision, 'ProcessFrame', { camera_id: 'bad-prio', frame_id: 1, image: jpeg, priority: 7 }, auth());
    expect(frame.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(frame.error!.metadata.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_INVALID_ARGUMENT']);
    expect(frame.error!.details).toContain('priority');
    expect(String(frame.error!.metadata.get('camtrack-error-hint')[0])).toContain('PRIORITY_HIGH');

    const batch = await unary(c.vision, 'ProcessFrameBatch', { frames: [{ camera_id: 'bad-prio', frame_id: 1, image: jpeg }], priority: 9 }, auth());
    expect(batch.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(batch.error!.metadata.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_INVALID_ARGUMENT']);

    const call = (c.vision as unknown as { ProcessCameraStream(m: grpc.Metadata): grpc.ClientDuplexStream<object, unknown> }).ProcessCameraStream(auth());
    const failed = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    call.on('data', () => undefined);
    call.write({ config: { camera_id: 'bad-prio-stream', priority: 5 } });
    const err = await failed;
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.metadata.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_INVALID_ARGUMENT']);

    // The valid values are taken, by name and by number.
    const ok = await unary(c.vision, 'ProcessFrame', { camera_id: 'good-prio', frame_id: 1, image: jpeg, priority: 'PRIORITY_HIGH' }, auth(), { deadline: Date.now() + 30_000 });
    expect(ok.error).toBeUndefined();
    const okBatch = await unary<{ outcomes: { result?: unknown; error?: unknown }[] }>(
      c.vision,
      'ProcessFrameBatch',
      { frames: [{ camera_id: 'good-prio', frame_id: 2, image: jpeg, priority: 1 }], priority: 'PRIORITY_HIGH' },
      auth(),
      { deadline: Date.now() + 30_000 },
    );
    expect(okBatch.error).toBeUndefined();
    expect(okBatch.value!.outcomes[0]!.error).toBeFalsy();
  }, 60_000);
});
