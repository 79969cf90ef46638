/**
 * Analytics events out (config `outputs`, src/sinks/outputs.ts) with real receivers on loopback: walking.mp4 (shared
 * assets) through yolo11n_int8_320 and ByteTrack on a CameraRegistry (what run, worker and serve use), a zone over
 * the whole frame and the counting segment of analytics-walking.test.ts, with
 * - three webhooks on node:http receivers: one that answers 200 (events filtered to zone-enter, a secret header),
 *   one that fails twice with 500 then answers 200, and a dead one (accepts, never answers; a tiny queue);
 * - MQTT to a real `mosquitto` (a config file in a temp dir, a free port), read back by an mqtt client subscribed to
 *   camtrack/#; then the broker is killed: events queue (bounded, drops counted), and once it is started again on
 *   the same port publishing resumes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';

import { CameraRegistry } from '../../dist/cameras/registry.js';
import { normaliseOutputs } from '../../dist/config.js';
import type { AnalyticsEvent } from '../../dist/analytics.js';
import { AnalyticsOutputs } from '../../dist/sinks/outputs.js';
import { MqttSink } from '../../dist/sinks/mqtt.js';
import type { FrameResult } from '../../dist/types.js';
import { assetPath, describeWithAssets, isCi, repoRoot } from '../helpers/assets.js';
import { killAllTracked } from '../helpers/processes.js';
import { mosquittoUnavailableReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/serve.js';
import { expectValid, validateWireAnalyticsEvent } from '../helpers/wire.js';

const MODEL = 'models/yolo11n_int8_320.onnx';
const CLIP = 'videos/walking.mp4';
const SECRET = 'hook-s3cret';
const ANALYTICS = {
  lines: [{ id: 'crossing', start: [680, 400] as [number, number], end: [960, 400] as [number, number] }],
  zones: [{ id: 'all', polygon: [[0, 0], [1280, 0], [1280, 720], [0, 720]] as [number, number][], exitFrames: 3 }],
};

type Json = Record<string, any>;

interface Receiver {
  url: string;
  bodies: Json[];
  headers: http.IncomingHttpHeaders[];
  requests: number;
  close(): Promise<void>;
}

/** An HTTP receiver on 127.0.0.1 that answers 500 to its first `failFirst` requests, then 200. */
async function receiver(failFirst = 0): Promise<Receiver> {
  const r = { bodies: [] as Json[], headers: [] as http.IncomingHttpHeaders[], requests: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.requests++;
      if (r.requests <= failFirst) {
        res.writeHead(500).end();
        return;
      }
      r.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json);
      r.headers.push(req.headers);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook?token=abc`,
    ...r,
    get bodies() {
      return r.bodies;
    },
    get headers() {
      return r.headers;
    },
    get requests() {
      return r.requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  } as Receiver;
}

describeWithAssets('analytics events out: webhooks and MQTT', [MODEL, CLIP], () => {
  let broker: Mosquitto | undefined;
  const receivers: Receiver[] = [];
  afterAll(async () => {
    for (const r of receivers) await r.close();
    await broker?.dispose();
    await killAllTracked();
  });

  it.skipIf(mosquittoUnavailableReason() !== undefined && !isCi)('delivers to webhooks (retries, filter, secret; a dead one costs nothing) and MQTT; MQTT resumes after the broker restarts', async () => {
    broker = await startMosquitto();
    const good = await receiver();
    const flaky = await receiver(2);
    receivers.push(good, flaky);
    // A dead receiver: accepts connections and never answers (every POST times out).
    const held: net.Socket[] = [];
    const dead = net.createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadPort = (dead.address() as net.AddressInfo).port;
    const outputs = new AnalyticsOutputs(
      normaliseOutputs({
        webhooks: [
          { url: good.url, events: ['zone-enter'], secret: SECRET },
          { url: flaky.url, events: ['zone-enter'], backoffMs: 50 },
          { url: `http://127.0.0.1:${deadPort}/gone`, retries: 1, backoffMs: 10, timeoutMs: 500, maxPending: 2 },
        ],
        mqtt: { url: broker.url(), maxPending: 5, reconnectMs: 200 },
      }),
      () => {},
    );
    const warnings: string[] = [];
    for (const w of outputs.webhooks) w.on('warning', (e: Error) => warnings.push(e.message));

    const sub = await mqtt.connectAsync(broker.url(), { reconnectPeriod: 200 });
    const got: { topic: string; payload: string; retain: boolean }[] = [];
    sub.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString('utf8'), retain: packet.retain }));
    await sub.subscribeAsync(['camtrack/#', 'again/#']);
    await waitFor('the sink connected', () => outputs.mqtt!.connected, 20_000);

    const cameras = await CameraRegistry.create({ model: assetPath(MODEL), tracker: { type: 'bytetrack' } });
    outputs.attach(cameras);
    const events: AnalyticsEvent[] = [];
    const withEvents: FrameResult[] = [];
    cameras.on('result', (r: FrameResult) => {
      if (r.analytics && r.analytics.events.length > 0) {
        events.push(...r.analytics.events);
        withEvents.push(r);
      }
    });
    const stream = await cameras.add({ id: 'walk', url: assetPath(CLIP), analytics: ANALYTICS });
    await stream.whenEnded();
    const stats = stream.stats();
    await cameras.close();
    const enters = events.filter((e) => e.type === 'zone-enter').length;
    expect(enters).toBeGreaterThan(3);

    // Webhooks: everything wanted arrives, in the wire format, with the secret; the flaky receiver's two 500s were retried.
    await waitFor('the good receiver got every zone-enter', () => good.bodies.length === enters, 30_000);
    await waitFor('the flaky receiver got every zone-enter', () => flaky.bodies.length === enters, 30_000);
    for (const b of good.bodies) {
      expectValid(validateWireAnalyticsEvent, b);
      expect(b).toMatchObject({ v: 1, type: 'analytics', camera_id: 'walk', event: 'zone-enter', zone: 'all' });
    }
    expect(good.bodies.map((b) => b.track_id)).toEqual(events.filter((e) => e.type === 'zone-enter').map((e) => (e as { trackId: number }).trackId));
    expect(good.headers.every((h) => h['x-camtrack-secret'] === SECRET && h['content-type'] === 'application/json')).toBe(true);
    expect(flaky.requests).toBe(enters + 2);
    expect(flaky.headers.every((h) => h['x-camtrack-secret'] === undefined)).toBe(true);
    const [goodStats, flakyStats, deadStats] = outputs.stats().webhooks;
    expect(goodStats).toMatchObject({ sent: enters, retried: 0, failed: 0, dropped: 0 });
    expect(flakyStats).toMatchObject({ sent: enters, retried: 2, failed: 0, dropped: 0 });
    // The dead receiver: nothing sent, its losses counted by cause; the camera lost nothing to it.
    expect(deadStats!.sent).toBe(0);
    expect(deadStats!.dropped).toBeGreaterThan(0);
    expect(deadStats!.failed).toBeGreaterThan(0);
    expect(deadStats!.url).toBe(`http://127.0.0.1:${deadPort}/gone`);
    expect(stats.dropped.consumer).toBe(0);
    expect(stream.state).toBe('ended');
    // Warnings name the URL without its query (a token) and never the secret.
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.join('\n')).not.toMatch(/token=abc|hook-s3cret/);

    // MQTT: every event on camtrack/walk/events, the retained counts of the line and the zone.
    await waitFor('every event over MQTT', () => got.filter((m) => m.topic === 'camtrack/walk/events').length === events.length, 30_000);
    for (const m of got.filter((x) => x.topic === 'camtrack/walk/events')) expectValid(validateWireAnalyticsEvent, JSON.parse(m.payload));
    const zone = got.filter((m) => m.topic === 'camtrack/walk/zones/all').at(-1);
    expect(JSON.parse(zone!.payload)).toEqual({ occupancy: withEvents.findLast((r) => r.analytics!.events.some((e) => e.type.startsWith('zone')))!.analytics!.zones.all!.occupancy });
    const crossings = events.filter((e) => e.type === 'line-cross').length;
    if (crossings > 0) expect(JSON.parse(got.filter((m) => m.topic === 'camtrack/walk/lines/crossing').at(-1)!.payload)).toMatchObject({ in: expect.any(Number), out: expect.any(Number) });
    expect(got.some((m) => m.topic === 'camtrack/available' && m.payload === 'online')).toBe(true);
    await outputs.close(1000);
    expect(outputs.stats().webhooks[2]!.pending).toBe(0);
    for (const socket of held) socket.destroy();
    dead.close();

    // Broker killed: the sink queues (at most maxPending events, the rest dropped and counted); started again on the
    // same port, what waits goes out and new events follow. The same real results, written again.
    const sink = MqttSink.create(normaliseOutputs({ mqtt: { url: broker.url(), maxPending: 5, reconnectMs: 200, topicPrefix: 'again' } }).mqtt!);
    await waitFor('the second sink connected', () => sink.connected, 20_000);
    await broker.stop('SIGKILL');
    await waitFor('the sink to see the broker gone', () => !sink.connected, 20_000);
    const replay = withEvents.slice(0, 10);
    const replayed = replay.reduce((n, r) => n + r.analytics!.events.length, 0);
    for (const r of replay) sink.write(r);
    const down = sink.stats();
    expect(down.connected).toBe(false);
    expect(down.dropped).toBe(Math.max(0, replayed - 5));
    expect(down.dropped).toBeGreaterThan(0);
    await broker.start();
    await waitFor('the sink reconnected', () => sink.connected, 30_000);
    await waitFor('the subscriber back', () => sub.connected, 30_000);
    sink.write(withEvents[10]!);
    const after = withEvents[10]!.analytics!.events.length;
    await waitFor('events after the restart', () => got.filter((m) => m.topic === 'again/walk/events').length >= after, 30_000);
    expect(sink.stats()).toMatchObject({ reconnects: 1, pending: 0 });
    await sink.close();
    await sub.endAsync();
  }, 300_000);

  it('camtrack run --config: the outputs section reaches its webhooks (every zone-enter of its JSON lines)', async () => {
    const hook = await receiver();
    receivers.push(hook);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-outputs-'));
    try {
      const cfg = path.join(dir, 'run.json');
      writeFileSync(
        cfg,
        JSON.stringify({
          model: assetPath(MODEL),
          tracker: { type: 'bytetrack' },
          outputs: { webhooks: [{ url: hook.url, events: ['zone-enter'], secret: SECRET }] },
          streams: [{ id: 'walk', url: assetPath(CLIP), analytics: ANALYTICS }],
        }),
      );
      const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'camtrack.js'), 'run', '--config', cfg], {
        env: { ...process.env, CAMTRACK_CACHE_DIR: path.join(dir, 'cache') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(status, err).toBe(0);
      expect(err).not.toContain(SECRET);
      const enters = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => ((JSON.parse(l) as Json).analytics?.events ?? []) as Json[])
        .filter((e) => e.type === 'zone-enter');
      expect(enters.length).toBeGreaterThan(3);
      // The run waits for its webhooks (up to 5 s) before it exits: everything was delivered by then.
      expect(hook.bodies.map((b) => b.track_id)).toEqual(enters.map((e) => e.track_id));
      expect(hook.headers.every((h) => h['x-camtrack-secret'] === SECRET)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
