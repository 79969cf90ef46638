#!/usr/bin/env node
// Issue 11's Redis bench: Redis in → null inference → Redis out, --cameras cameras (default 100), with 320×240 and
// 1280×720 JPEGs (frames of ../shared/assets/videos/walking.mp4 encoded by ffmpeg, -q:v 5), against the same Redis
// commands issued by a bare client loop, in the same run, on a redis-server this script starts on a free port.
//
// Both trials get the same frames from the same producer: a worker thread that XADDs them to camera_{id}_input
// (pipelined, cameras in turn) as fast as Redis takes them, keeping at most --lag frames ahead of the consumer. The
// consumer is either
//   bare:     one ioredis client looping: XREADGROUP (every camera's group, one pipeline) → XADD the output and
//             XACK the input of each entry (one pipeline) — the commands of the worker, with no work in between;
//   camtrack: RedisWorker (src/sources/worker.ts) with the null processor (no decode, no model: the result of each
//             frame has its size from the JPEG header), as `camtrack worker --no-inference` runs it, defaults
//             included (leases on: every read, write and acknowledgement fenced; acks in the write's Lua script).
// Throughput: output entries per second over the trial. Latency: output entry id time − input entry id time (both
// Redis's clock), p50/p99. Rounds alternate bare, camtrack (--repeat); the report gives each run and the medians,
// and camtrack's throughput over bare's (the bar: ≥ 0.5). JSON on stdout.
//   node bench/redis-worker.mjs [--cameras 100] [--frames-720p 3000] [--frames-240p 10000] [--repeat 3] [--lag 1000]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

import { Redis } from 'ioredis';

import { RedisWorker } from '../dist/sources/worker.js';
// The one report module (issue 15): stamp (tool, version, commit, machine, startedAt) and the statistics.
import { median, percentile, startReport, writeReport } from '../dist/bench/report.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '100' },
    'frames-720p': { type: 'string', default: '3000' },
    'frames-240p': { type: 'string', default: '10000' },
    repeat: { type: 'string', default: '3' },
    lag: { type: 'string', default: '1000' },
  },
});
const start = startReport(); // the machine and its load before anything ran
const cameras = Number(values.cameras);
const repeat = Number(values.repeat);
const lag = Number(values.lag);
const assets = process.env.CAMTRACK_ASSETS ?? path.join(root, '..', 'shared', 'assets');

// The payloads.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'camtrack-redis-bench-'));
function jpeg(scale) {
  const out = path.join(tmp, `${scale.replace(':', 'x')}.jpg`);
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-ss', '5', '-i', path.join(assets, 'videos', 'walking.mp4'), '-frames:v', '1', '-vf', `scale=${scale}`, '-q:v', '5', '-y', out]);
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  return readFileSync(out);
}
const payloads = { '320x240': jpeg('320:240'), '1280x720': jpeg('1280:720') };

// The server.
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const port = await freePort();
const server = spawn('/usr/bin/redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', tmp], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise((resolve) => server.stdout.on('data', (d) => /Ready to accept/.test(String(d)) && resolve()));
const url = `redis://127.0.0.1:${port}`;
const admin = new Redis(url);
const ids = Array.from({ length: cameras }, (_, i) => `c${i}`);

/** The producer thread: `total` frames over the cameras, at most `lag` ahead of `consumed` (a shared counter). */
const PRODUCER = `
const { workerData, parentPort } = require('node:worker_threads');
const { Redis } = require(workerData.ioredis);
(async () => {
  const { url, ids, total, lag, payload, consumed } = workerData;
  const done = new Int32Array(consumed);
  const c = new Redis(url);
  let n = 0;
  while (n < total) {
    while (n - Atomics.load(done, 0) >= lag) await new Promise((r) => setTimeout(r, 1));
    const p = c.pipeline();
    const batch = Math.min(total - n, 64, lag - (n - Atomics.load(done, 0)));
    for (let k = 0; k < batch; k++, n++) {
      p.xadd('camera_' + ids[n % ids.length] + '_input', '*', 'frame', Buffer.from(payload), 'frame_id', String(Math.floor(n / ids.length)));
    }
    await p.exec();
  }
  c.disconnect();
  parentPort.postMessage('done');
})();
`;
function producer(total, payload, consumed) {
  return new Worker(PRODUCER, {
    eval: true,
    workerData: { url, ids, total, lag, payload, consumed, ioredis: path.join(root, 'node_modules', 'ioredis', 'built', 'index.js') },
  });
}

async function reset() {
  await admin.flushall();
  const p = admin.pipeline();
  for (const id of ids) p.xgroup('CREATE', `camera_${id}_input`, `inference_consumer_${id}`, '$', 'MKSTREAM');
  await p.exec();
}

/** Latencies (ms) from the output entries: their id time − their input's (message_key, or the field `in`). */
async function latencies() {
  const out = [];
  for (const id of ids) {
    for (const [outId, fields] of await admin.xrange(`camera_${id}_output`, '-', '+')) {
      const key = fields[0] === 'data' ? JSON.parse(fields[1]).message_key : fields[1];
      out.push(Number(outId.split('-')[0]) - Number(key.split('-')[0]));
    }
  }
  return out.sort((a, b) => a - b);
}

async function bare(total, payload) {
  await reset();
  const consumed = new SharedArrayBuffer(4);
  const done = new Int32Array(consumed);
  const c = new Redis(url);
  const t0 = performance.now();
  const prod = producer(total, payload, consumed);
  let n = 0;
  while (n < total) {
    const read = c.pipeline();
    for (const id of ids) read.xreadgroupBuffer('GROUP', `inference_consumer_${id}`, 'bare', 'COUNT', 16, 'STREAMS', `camera_${id}_input`, '>');
    const replies = await read.exec();
    const write = c.pipeline();
    let got = 0;
    replies.forEach(([, reply], k) => {
      for (const [entryId] of reply?.[0]?.[1] ?? []) {
        const eid = entryId.toString();
        write.xadd(`camera_${ids[k]}_output`, 'MAXLEN', '~', '10000', '*', 'in', eid);
        write.xack(`camera_${ids[k]}_input`, `inference_consumer_${ids[k]}`, eid);
        got++;
      }
    });
    if (got > 0) await write.exec();
    n += got;
    Atomics.store(done, 0, n);
  }
  const ms = performance.now() - t0;
  await prod.terminate();
  c.disconnect();
  return { fps: Math.round((total / ms) * 1000), lat: await latencies() };
}

async function camtrack(total, payload) {
  await reset();
  const consumed = new SharedArrayBuffer(4);
  const done = new Int32Array(consumed);
  const w = await RedisWorker.create({ redis: { url, input: { cameras: ids, trimIntervalMs: 0, claimIdleMs: 0 } }, processor: 'null', consumer: 'camtrack' });
  let n = 0;
  let finish;
  const finished = new Promise((r) => (finish = r));
  await w.start(); // leases taken and groups ready before the clock starts, as the bare loop's groups are
  const t0 = performance.now();
  const prod = producer(total, payload, consumed);
  const poll = setInterval(() => {
    n = 0;
    for (const c of Object.values(w.stats().cameras)) n += c.written;
    Atomics.store(done, 0, n);
    if (n >= total) finish();
  }, 2);
  await finished;
  const ms = performance.now() - t0;
  clearInterval(poll);
  await prod.terminate();
  await w.stop(5000);
  return { fps: Math.round((total / ms) * 1000), lat: await latencies() };
}

const pct = (xs, p) => percentile(xs, p / 100);
const report = { cameras, lag, repeat, redis: (await admin.info('server')).match(/redis_version:(\S+)/)[1], trials: {} };
for (const [size, total] of [
  ['320x240', Number(values['frames-240p'])],
  ['1280x720', Number(values['frames-720p'])],
]) {
  const payload = payloads[size];
  const runs = { bare: [], camtrack: [] };
  for (let k = 0; k < repeat; k++) {
    for (const [name, fn] of [
      ['bare', bare],
      ['camtrack', camtrack],
    ]) {
      const r = await fn(total, payload);
      runs[name].push({ fps: r.fps, p50Ms: pct(r.lat, 50), p99Ms: pct(r.lat, 99) });
      process.stderr.write(`[redis bench] ${size} ${name}: ${r.fps} frames/s, p99 ${pct(r.lat, 99)} ms\n`);
    }
  }
  const m = (name, key) => median(runs[name].map((r) => r[key]));
  report.trials[size] = {
    jpegBytes: payload.length,
    frames: total,
    runs,
    bare: { fps: m('bare', 'fps'), p50Ms: m('bare', 'p50Ms'), p99Ms: m('bare', 'p99Ms') },
    camtrack: { fps: m('camtrack', 'fps'), p50Ms: m('camtrack', 'p50Ms'), p99Ms: m('camtrack', 'p99Ms') },
    ratio: Number((m('camtrack', 'fps') / m('bare', 'fps')).toFixed(3)),
  };
}
writeReport('bench/redis-worker.mjs', report, { start });
admin.disconnect();
server.kill('SIGTERM');
rmSync(tmp, { recursive: true, force: true });
