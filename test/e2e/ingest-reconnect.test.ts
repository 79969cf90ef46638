/**
 * Live-source robustness on a real GStreamer RTSP server (test/helpers/rtsp-server.ts) on loopback:
 *
 * - 8 streams at once over TCP and UDP, H.264 and HEVC (the harness's endless `live:` cameras, 1 s GOP); the server
 *   holding 6 of them is killed (SIGKILL) mid-stream and restarted on the same port: each of those streams goes
 *   live → stalled → reconnecting → live and delivers again within 5 s of the server being back; the 2 streams on
 *   another server are not interrupted; frameIndex and ptsMs keep increasing across the reconnect.
 * - Unreachable port, unknown mount, wrong/missing credentials (RTSP basic auth), a server that accepts and never
 *   answers: each has its own reason word and ERR_CAMTRACK_SOURCE_OPEN, retries exactly maxAttempts times, then
 *   'failed'; a healthy stream beside them keeps delivering; no credentials in any message.
 * - The pipeline-wide reconnect pacer spaces attempts of many failing streams (token bucket).
 * yolo11n_int8_320.onnx (fastest model): detection quality does not matter here.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Pipeline, type CamtrackError, type FrameResult, type Stream } from '../../dist/index.js';
import type { StateChange } from '../../dist/types.js';
import { assetPath, describeWithAssets, isCi } from '../helpers/assets.js';
import { freePort, killAllTracked } from '../helpers/processes.js';
import { rtspServerUnavailableReason, startRtspServer, type RtspServer } from '../helpers/rtsp-server.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
/** The harness's live cameras: 320x240, 15 fps, keyframe every 15 frames (1 s). */
const CAM = 'live:320x240@15';
const CAM_SIZE = { width: 320, height: 240 };
/** Issue 3: a stream resumes within 5 s of the server being back. */
const RESUME_WITHIN_MS = 5000;
const RECONNECT = { stallTimeoutMs: 2000, initialDelayMs: 200, maxDelayMs: 1000, multiplier: 2, jitter: 0.2 };

interface Rec {
  results: { r: FrameResult; at: number }[];
  states: StateChange[];
  warnings: CamtrackError[];
  errors: CamtrackError[];
}

function record(stream: Stream): Rec {
  const rec: Rec = { results: [], states: [], warnings: [], errors: [] };
  stream.on('result', (r: FrameResult) => rec.results.push({ r, at: performance.now() }));
  stream.on('state', (_s: string, _p: string, c: StateChange) => rec.states.push(c));
  stream.on('warning', (e: CamtrackError) => rec.warnings.push(e));
  stream.on('error', (e: CamtrackError) => rec.errors.push(e));
  return rec;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

function expectOrdered(rec: Rec, label: string): void {
  for (let i = 1; i < rec.results.length; i++) {
    const a = rec.results[i - 1]!.r;
    const b = rec.results[i]!.r;
    expect(b.frameIndex, `${label}: frameIndex after ${a.frameIndex}`).toBeGreaterThan(a.frameIndex);
    expect(b.ptsMs, `${label}: ptsMs after frame ${a.frameIndex}`).toBeGreaterThan(a.ptsMs);
  }
}

const unavailable = rtspServerUnavailableReason();
if (unavailable !== undefined && !isCi) console.warn(`[camtrack tests] skipping ingest reconnect tests: ${unavailable}`);
const describeRtsp = unavailable !== undefined && !isCi ? describe.skip : describe;

describeWithAssets('Ingest: reconnects and failures', [FAST_MODEL], () => {
  describeRtsp('live RTSP cameras that drop and come back', () => {
    afterAll(async () => {
      await killAllTracked();
    });

    it('8 streams (TCP+UDP, H.264+HEVC): the killed server\'s 6 resume within 5 s of its restart, the other 2 are not interrupted, order kept', async () => {
      if (unavailable !== undefined) throw new Error(unavailable); // only reached with CI=true
      const port = await freePort();
      // One mount per camera: gst-rtsp-server 1.22 can abort (gst_rtsp_media_get_rates: assertion failed) when
      // several clients set up the same shared live media at the same moment — which reconnecting streams do.
      const mounts = { '/tcp0': CAM, '/tcp1': CAM, '/tcp2': CAM, '/udp0': CAM, '/udp1': CAM, '/hevc': `${CAM},h265` };
      let flaky: RtspServer = await startRtspServer({ port, mounts });
      const steady = await startRtspServer({ mounts: { '/steady-tcp': CAM, '/steady-udp': CAM } });
      try {
        await using p = await Pipeline.create({ model: assetPath(FAST_MODEL), inference: { workers: 1 } });
        const specs = [
          { id: 'tcp0', url: flaky.url('/tcp0'), rtspTransport: 'tcp' as const },
          { id: 'tcp1', url: flaky.url('/tcp1'), rtspTransport: 'tcp' as const },
          { id: 'tcp2', url: flaky.url('/tcp2'), rtspTransport: 'tcp' as const },
          { id: 'udp0', url: flaky.url('/udp0'), rtspTransport: 'udp' as const },
          { id: 'udp1', url: flaky.url('/udp1'), rtspTransport: 'udp' as const },
          { id: 'hevc', url: flaky.url('/hevc'), rtspTransport: 'tcp' as const },
          { id: 'steady-tcp', url: steady.url('/steady-tcp'), rtspTransport: 'tcp' as const },
          { id: 'steady-udp', url: steady.url('/steady-udp'), rtspTransport: 'udp' as const },
        ];
        const recs = new Map<string, Rec>();
        for (const s of specs) recs.set(s.id, record(p.addStream({ ...s, reconnect: RECONNECT })));
        const flakyIds = specs.slice(0, 6).map((s) => s.id);
        const steadyIds = ['steady-tcp', 'steady-udp'];
        const progress = (): string =>
          [...recs.entries()]
            .map(([id, r]) => `${id}: ${r.results.length} results, states ${r.states.map((c) => `${c.state}(${c.reason})`).join('→')}`)
            .join('; ');
        await until(() => [...recs.values()].every((r) => r.results.length >= 5), 30_000, 'all 8 streams to deliver').catch((e: Error) => {
          throw new Error(`${e.message}: ${progress()}`);
        });
        const st0 = p.stats();
        expect(st0.streams.find((s) => s.id === 'hevc')!.codec).toBe('hevc');
        expect(st0.streams.find((s) => s.id === 'tcp0')!.codec).toBe('h264');

        // Crash the server holding six streams.
        const tKill = performance.now();
        await flaky.stop('SIGKILL');
        await until(
          () => flakyIds.every((id) => recs.get(id)!.states.some((c) => c.state === 'reconnecting')),
          RECONNECT.stallTimeoutMs + 4000,
          'the killed server\'s streams to notice',
        );
        const noticedMs = performance.now() - tKill;
        await new Promise((r) => setTimeout(r, 1500)); // it stays down a while (attempts fail: 'refused')
        flaky = await startRtspServer({ port, mounts });
        const tBack = performance.now();
        const resumeMs: Record<string, number> = {};
        const fpsSoonAfter: Record<string, number> = {};
        await Promise.all(
          flakyIds.map(async (id) => {
            const rec = recs.get(id)!;
            resumeMs[id] = await until(() => rec.results.some((x) => x.at > tBack), 10_000, `${id} to deliver again`);
            // Half a second into the new connection, before its first 1 s fps window closes: the rate so far.
            await new Promise((r) => setTimeout(r, 500));
            fpsSoonAfter[id] = p.stats().streams.find((s) => s.id === id)!.inputFps;
          }),
        );
        await new Promise((r) => setTimeout(r, 1000));
        const tEnd = performance.now();
        console.log(
          `[ingest reconnect] noticed in ${noticedMs.toFixed(0)} ms; resumed after restart (ms): ` +
            Object.entries(resumeMs)
              .map(([k, v]) => `${k} ${v.toFixed(0)}`)
              .join(', ') +
            `; inputFps 500 ms later: ${Object.entries(fpsSoonAfter).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`,
        );
        const stats = p.stats();
        for (const id of flakyIds) {
          const rec = recs.get(id)!;
          const st = stats.streams.find((s) => s.id === id)!;
          expect(resumeMs[id], `${id} resumed`).toBeLessThan(RESUME_WITHIN_MS);
          // The new connection's rate so far, not 0. (It reads high at first: the frames FFmpeg reads while opening
          // the stream arrive in a burst; docs/ingest.md.)
          expect(fpsSoonAfter[id], `${id} inputFps 500 ms after resuming`).toBeGreaterThan(5);
          const seq = rec.states.map((c) => c.state);
          expect(seq.slice(0, 4), `${id} states ${seq.join('→')}`).toEqual(['live', 'stalled', 'reconnecting', 'live']);
          const stalled = rec.states.find((c) => c.state === 'stalled')!;
          expect(['eof', 'stalled', 'disconnected', 'read_timeout']).toContain(stalled.reason);
          expect(stalled.error?.code).toBe('ERR_CAMTRACK_SOURCE_READ');
          expect(rec.states.at(-1)!.state).toBe('live');
          expect(rec.states.at(-1)!.reason).toBe('reconnected');
          expect(rec.errors).toEqual([]);
          expect(rec.warnings.length).toBeGreaterThanOrEqual(1);
          expect(st.reconnects).toBeGreaterThanOrEqual(1);
          expect(st.reconnectAttempts).toBeGreaterThanOrEqual(st.reconnects);
          expect(st.state).toBe('live');
          expect(st.frameAgeMs).toBeGreaterThanOrEqual(0);
          expect(st.frameAgeMs).toBeLessThan(1000);
          expect(st.inputFps).toBeGreaterThan(5);
          expect(st.lastErrorCode).toMatch(/^ERR_CAMTRACK_SOURCE_(READ|OPEN)$/);
          expectOrdered(rec, id);
          expect(rec.results.at(-1)!.r.width).toBe(CAM_SIZE.width);
        }
        for (const id of steadyIds) {
          const rec = recs.get(id)!;
          const st = stats.streams.find((s) => s.id === id)!;
          expect(rec.states.map((c) => c.state), id).toEqual(['live']);
          expect(st.reconnects).toBe(0);
          // Not interrupted: results kept coming through the outage, no gap over 1 s.
          const during = rec.results.filter((x) => x.at >= tKill && x.at <= tEnd).map((x) => x.at);
          const gaps = during.slice(1).map((t, i) => t - during[i]!);
          expect(during.length, `${id} results during the outage`).toBeGreaterThan(10);
          expect(Math.max(...gaps), `${id} longest gap`).toBeLessThan(1000);
          expectOrdered(rec, id);
        }
      } finally {
        await flaky.stop();
        await steady.stop();
      }
    }, 90_000);

    it('EXPECTED FAILURE - refused port, unknown mount, wrong and missing credentials, silent server: own reason, maxAttempts retries, then failed; a good stream is unaffected', async () => {
      const user = 'viewer';
      const password = 's3cret-pw';
      const server = await startRtspServer({ mounts: { '/cam': CAM }, auth: { user, password } });
      const sockets = new Set<net.Socket>();
      const silent = net.createServer((sock) => sockets.add(sock));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
      const silentPort = (silent.address() as net.AddressInfo).port;
      const closedPort = await freePort();
      const withCreds = (u: string, pw: string, mount: string): string =>
        server.url(mount).replace('rtsp://', `rtsp://${u}:${pw}@`);
      try {
        await using p = await Pipeline.create({ model: assetPath(FAST_MODEL), inference: { workers: 1 } });
        const policy = { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 200, jitter: 0 };
        const bad = [
          { id: 'refused', url: `rtsp://${user}:${password}@127.0.0.1:${closedPort}/cam`, reason: 'refused' },
          { id: 'nomount', url: withCreds(user, password, '/no-such-mount'), reason: 'not_found' },
          { id: 'wrongpw', url: withCreds(user, 'wrong-pw', '/cam'), reason: 'unauthorized' },
          { id: 'nocreds', url: server.url('/cam'), reason: 'unauthorized' },
          { id: 'silent', url: `rtsp://127.0.0.1:${silentPort}/cam`, reason: 'timeout' },
        ];
        const good = record(p.addStream({ id: 'good', url: withCreds(user, password, '/cam') }));
        const recs = new Map<string, Rec>();
        const streams = new Map<string, Stream>();
        const t0 = performance.now();
        for (const b of bad) {
          const s = p.addStream({ id: b.id, url: b.url, openTimeoutMs: 1000, reconnect: policy });
          streams.set(b.id, s);
          recs.set(b.id, record(s));
        }
        const finals = await Promise.all(bad.map((b) => streams.get(b.id)!.whenEnded()));
        const elapsed = performance.now() - t0;
        const goodBefore = good.results.length;
        await new Promise((r) => setTimeout(r, 500));
        const stats = p.stats();
        bad.forEach((b, i) => {
          const rec = recs.get(b.id)!;
          const st = stats.streams.find((s) => s.id === b.id)!;
          console.log(`[ingest failure] ${b.id}: ${rec.errors[0]?.code} ${st.lastErrorReason} — ${rec.errors[0]?.message}`);
          expect(finals[i], b.id).toBe('failed');
          expect(rec.states.map((c) => c.state), b.id).toEqual(['reconnecting', 'failed']);
          expect(rec.states[0]!.reason, b.id).toBe(b.reason);
          expect(rec.states[1]!.reason, b.id).toBe(b.reason);
          expect(rec.errors, b.id).toHaveLength(1);
          expect(rec.errors[0]!.code, b.id).toBe('ERR_CAMTRACK_SOURCE_OPEN');
          expect(rec.errors[0]!.hint, b.id).toBeTruthy();
          expect(rec.warnings, b.id).toHaveLength(2); // the first failure and the first retry; the second retry is the error
          expect(st.reconnectAttempts, b.id).toBe(2);
          expect(st.reconnects, b.id).toBe(0);
          expect(st.lastErrorReason, b.id).toBe(b.reason);
          expect(st.lastErrorCode, b.id).toBe('ERR_CAMTRACK_SOURCE_OPEN');
          for (const text of [st.url, st.lastError ?? '', ...[...rec.warnings, ...rec.errors].map((e) => `${e.message} ${e.hint}`)]) {
            expect(text).not.toContain(password);
            expect(text).not.toContain('wrong-pw');
          }
        });
        expect(stats.streams.find((s) => s.id === 'wrongpw')!.url).toContain('***@');
        // The silent server needs 3 × openTimeoutMs (1 s) plus backoff; the others fail at once.
        expect(elapsed).toBeLessThan(3 * 1000 + 3000);
        expect(good.errors).toEqual([]);
        expect(good.states.map((c) => c.state)).toEqual(['live']);
        expect(good.results.length).toBeGreaterThan(goodBefore);
        expect(good.results[0]!.r.width).toBe(CAM_SIZE.width);
      } finally {
        for (const sock of sockets) sock.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
        await server.stop();
      }
    }, 40_000);

    it('the reconnect pacer spaces the attempts of many failing streams (token bucket) and is off with rate 0', async () => {
      const closedPort = await freePort();
      const policy = { maxAttempts: 3, initialDelayMs: 0, maxDelayMs: 0, jitter: 0 };
      const streams = 5;
      const run = async (ratePerSecond: number): Promise<number> => {
        await using p = await Pipeline.create({
          model: assetPath(FAST_MODEL),
          inference: { workers: 1 },
          ingest: { reconnectRatePerSecond: ratePerSecond, reconnectBurst: 1 },
        });
        const t0 = performance.now();
        const all = Array.from({ length: streams }, (_, i) =>
          p.addStream({ id: `s${i}`, url: `rtsp://127.0.0.1:${closedPort}/x`, reconnect: policy }),
        );
        const finals = await Promise.all(all.map((s) => s.whenEnded()));
        expect(finals.every((f) => f === 'failed')).toBe(true);
        expect(p.stats().streams.reduce((n, s) => n + s.reconnectAttempts, 0)).toBe(streams * policy.maxAttempts);
        return performance.now() - t0;
      };
      const paced = await run(10);
      const unpaced = await run(0);
      console.log(`[ingest pacer] 15 reconnect attempts: paced (10/s, burst 1) ${paced.toFixed(0)} ms, unpaced ${unpaced.toFixed(0)} ms`);
      // 15 attempts, one token every 100 ms after the first: >= 1.4 s.
      expect(paced).toBeGreaterThanOrEqual(1300);
      expect(unpaced).toBeLessThan(1000);
    }, 30_000);
  });
});
