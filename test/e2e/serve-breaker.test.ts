/**
 * `camtrack serve` and the inference circuit breaker (docs/scheduling.md "Circuit breaker"), with the real onnxruntime
 * backend failing its first batches through the test-only inference.faults option (NODE_ENV=test under vitest):
 * /health/ready is 503 naming the breaker while it is open, 200 once the probe closed it; /metrics shows the state
 * gauge and the transitions by reason; the log has one line per transition; the gRPC health service (a real
 * grpc-js client's Watch) goes SERVING → NOT_SERVING → SERVING with it.
 */
import type * as grpc from '@grpc/grpc-js';
import { afterAll, expect, it } from 'vitest';

import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { grpcClients } from '../helpers/grpc.js';
import { startServe, waitFor, type TestServer } from '../helpers/serve.js';

const MODEL = 'models/yolo11n_int8_320.onnx';
const WALKING = 'videos/walking.mp4';

describeWithAssets('camtrack serve: readiness, metrics and logs follow the inference circuit breaker', [MODEL, WALKING], () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it('503 while the breaker is open, 200 after the probe closed it; metrics, one log line per transition, gRPC health Watch', async () => {
    const s = await startServe({
      model: assetPath(MODEL),
      serve: { grpc: { port: 0 } },
      inference: {
        workers: 1,
        breaker: { consecutiveFailures: 3, windowBatches: 0, cooldownMs: 1500, probeFrames: 1 },
        faults: { failNextBatches: 6 },
      },
      streams: [{ id: 'cam', url: assetPath(WALKING), live: true, loop: true }],
    });
    servers.push(s);
    // grpc.health.v1 Watch from the start: its statuses, in order (it sends the current one, then each change).
    const clients = grpcClients(s.grpc!.port);
    const watch = (clients.health.Watch as (r: object) => grpc.ClientReadableStream<{ status: string }>).call(clients.health, { service: '' });
    const statuses: string[] = [];
    watch.on('data', (m: { status: string }) => statuses.push(m.status));
    watch.on('error', () => {}); // CANCELLED at the end
    await s.context.booted;
    const ready = async () => {
      const r = await s.inject({ method: 'GET', url: '/health/ready' });
      return { status: r.statusCode, body: JSON.parse(r.body) as { reasons: string[] } };
    };

    let notReady: { status: number; body: { reasons: string[] } } | undefined;
    await waitFor('/health/ready 503 with the breaker open', async () => {
      const r = await ready();
      if (r.status === 503 && r.body.reasons.some((x) => /inference circuit breaker is (open|half-open)/.test(x))) notReady = r;
      return notReady !== undefined;
    }, 60_000);
    expect(notReady!.body.reasons.join('\n')).toMatch(/^model \S+: inference circuit breaker is (open|half-open)$/m);

    await waitFor('/health/ready 200 after the probe closed the breaker', async () => (await ready()).status === 200, 60_000);
    // Watch polls the readiness rule every second: NOT_SERVING while the breaker was open, SERVING again after.
    await waitFor('gRPC health back to SERVING after NOT_SERVING', () => statuses.includes('NOT_SERVING') && statuses.at(-1) === 'SERVING', 20_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}; Watch sent ${JSON.stringify(statuses)}`);
      },
    );
    expect(statuses.slice(statuses.lastIndexOf('NOT_SERVING'))).toEqual(['NOT_SERVING', 'SERVING']); // (a first NOT_SERVING may be the model loading)
    watch.cancel();
    clients.close();
    const camera = s.context.cameras.stats().cameras.find((c) => c.id === 'cam')!;
    expect(camera.state).not.toBe('failed');
    expect(camera.dropped.breaker).toBeGreaterThan(0);

    const metrics = (await s.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^camtrack_breaker_state\{model="[^"]+",state="closed"\} 1$/m);
    expect(metrics).toMatch(/^camtrack_breaker_state\{model="[^"]+",state="open"\} 0$/m);
    expect(metrics).toMatch(/^camtrack_breaker_transitions_total\{model="[^"]+",to="open",reason="consecutive"\} 1$/m);
    expect(metrics).toMatch(/^camtrack_breaker_transitions_total\{model="[^"]+",to="closed",reason="probe-ok"\} 1$/m);
    expect(metrics).toMatch(/^camtrack_frames_dropped_total\{camera="cam",cause="breaker"\} [1-9]\d*$/m);
    const cooldowns = Number(/^camtrack_breaker_transitions_total\{model="[^"]+",to="half-open",reason="cooldown"\} (\d+)$/m.exec(metrics)![1]);
    expect(cooldowns).toBeGreaterThanOrEqual(1);

    // One log line per transition: as many as the metrics count.
    const lines = s.logs().split('\n').filter((l) => l.includes('inference breaker '));
    expect(lines.filter((l) => l.includes('closed -> open (consecutive)'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('half-open -> closed (probe-ok)'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('open -> half-open (cooldown)'))).toHaveLength(cooldowns);
  }, 150_000);

  it("fallback 'cpu': still 503 while open (the reason says the fallback serves), results keep coming, the fallback's frames counted in /metrics", async () => {
    const s = await startServe({
      model: assetPath(MODEL),
      inference: {
        workers: 1,
        breaker: { consecutiveFailures: 3, windowBatches: 0, cooldownMs: 1500, probeFrames: 1, fallback: 'cpu' },
        faults: { failNextBatches: 6 },
      },
      streams: [{ id: 'cam', url: assetPath(WALKING), live: true, loop: true }],
    });
    servers.push(s);
    await s.context.booted;
    let notReady: string[] | undefined;
    let fallbackWhileOpen = 0;
    // Not ready, and yet results come: the fallback's frames grow while the readiness probe still says 503.
    await waitFor('/health/ready 503 with the breaker open while its fallback delivers frames', async () => {
      const frames = s.context.cameras.stats().cameras.find((c) => c.id === 'cam')!.fallback.frames;
      const r = await s.inject({ method: 'GET', url: '/health/ready' });
      const reasons = (JSON.parse(r.body) as { reasons: string[] }).reasons;
      if (r.statusCode === 503 && reasons.some((x) => /inference circuit breaker is open/.test(x)) && frames > 0) {
        notReady = reasons;
        fallbackWhileOpen = frames;
      }
      return notReady !== undefined;
    }, 60_000);
    expect(notReady!.join('\n')).toMatch(/^model \S+: inference circuit breaker is open \(its CPU fallback infers the frames meanwhile\)$/m);
    await waitFor('/health/ready 200 after the probe closed the breaker', async () => (await s.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200, 60_000);
    const camera = s.context.cameras.stats().cameras.find((c) => c.id === 'cam')!;
    expect(camera.state).not.toBe('failed');
    expect(camera.dropped.breaker).toBe(0);
    expect(camera.fallback.frames).toBeGreaterThan(0);
    expect(fallbackWhileOpen).toBeGreaterThan(0);
    expect(camera.fallback.frames).toBeGreaterThanOrEqual(fallbackWhileOpen);

    const metrics = (await s.inject({ method: 'GET', url: '/metrics' })).body;
    const fallbackFrames = Number(/^camtrack_breaker_fallback_frames_total\{model="[^"]+"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(fallbackFrames).toBeGreaterThan(0);
    expect(fallbackFrames).toBeGreaterThanOrEqual(camera.fallback.frames);
    expect(metrics).toMatch(/^camtrack_breaker_fallback_batches_failed_total\{model="[^"]+"\} 0$/m);
    expect(metrics).toMatch(/^camtrack_frames_dropped_total\{camera="cam",cause="breaker"\} 0$/m);
    expect(metrics).toMatch(/^camtrack_breaker_transitions_total\{model="[^"]+",to="closed",reason="probe-ok"\} 1$/m);
    console.log(`[serve-breaker-fallback] fallback frames while open ${fallbackWhileOpen}, in all ${fallbackFrames}`);
  }, 150_000);
});
