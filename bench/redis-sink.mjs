#!/usr/bin/env node
// The Redis sink (dist/sinks/redis.js) against its bound, in the same run: a bare ioredis loop writing the same
// payloads with pipelined XADD MAXLEN ~ (batches of the sink's batchSize, one in flight), on a redis-server this
// script starts on a free port (--save '' --appendonly no). Results are hand-built (5 detections, 5 tracks: a
// 1.35 kB wire message), spread over --cameras cameras; both loops serialise each result (toWireResult +
// JSON.stringify) inside the timed part, so the ratio is what the sink's queues, turns and bookkeeping cost. Rounds alternate bare, sink, bare, sink …; the report gives each
// run and the medians. JSON on stdout.
//   node bench/redis-sink.mjs [--cameras 100] [--results 20000] [--repeat 3]
import { spawn } from 'node:child_process';
import net from 'node:net';
import { parseArgs } from 'node:util';

import { Redis } from 'ioredis';

import { RedisSink } from '../dist/sinks/redis.js';
import { toWireResult } from '../dist/wire/index.js';
// The one report module (issue 15): stamp (tool, version, commit, machine, startedAt) and the statistics.
import { median, startReport, writeReport } from '../dist/bench/report.js';

const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '100' },
    results: { type: 'string', default: '20000' },
    repeat: { type: 'string', default: '3' },
  },
});
const cameras = Number(values.cameras);
const start = startReport(); // the machine and its load before anything ran
const total = Number(values.results);
const repeat = Number(values.repeat);

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const port = await freePort();
const server = spawn('/usr/bin/redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise((resolve) => server.stdout.on('data', (d) => /Ready to accept/.test(String(d)) && resolve()));
const url = `redis://127.0.0.1:${port}`;

const box = (i) => ({ x1: 100 + i, y1: 200.5, x2: 180.25 + i, y2: 390.75, score: 0.81234, classId: 0, label: 'person' });
function result(cam, i) {
  const dets = [0, 1, 2, 3, 4].map((k) => box(k * 50));
  return {
    streamId: `cam${cam}`,
    frameIndex: i,
    ptsMs: i * 100,
    timestampMs: Date.now(),
    latencyMs: 23.456,
    width: 1280,
    height: 720,
    inferred: true,
    detections: dets,
    tracks: dets.map((d, k) => ({ ...d, trackId: k + 1, age: i })),
    trackEvents: [],
    messageKey: `1796000000000-${i}`,
  };
}
const inputs = Array.from({ length: total }, (_, n) => result(n % cameras, Math.floor(n / cameras)));
const payloadBytes = JSON.stringify(toWireResult(inputs[0])).length;
const batchSize = 512;
const maxLen = 10000;

const client = new Redis(url);
async function bare() {
  await client.flushall();
  const t0 = performance.now();
  for (let i = 0; i < inputs.length; i += batchSize) {
    const p = client.pipeline();
    for (const r of inputs.slice(i, i + batchSize)) {
      p.xadd(`camera_${r.streamId}_output`, 'MAXLEN', '~', String(maxLen), '*', 'data', JSON.stringify(toWireResult(r)));
    }
    await p.exec();
  }
  return performance.now() - t0;
}
async function sink() {
  await client.flushall();
  const s = await RedisSink.create({ url, output: { batchSize, maxLen, maxPending: total } });
  const t0 = performance.now();
  for (const r of inputs) s.writeResult(r);
  await s.drain(120_000);
  const ms = performance.now() - t0;
  const st = s.stats();
  await s.close();
  if (st.written !== total) throw new Error(`sink wrote ${st.written} of ${total}`);
  return ms;
}

const runs = { bare: [], sink: [] };
for (let k = 0; k < repeat; k++) {
  runs.bare.push(await bare());
  runs.sink.push(await sink());
}
const perSec = (ms) => Math.round((total / ms) * 1000);
const report = {
  cameras,
  results: total,
  payloadBytes,
  batchSize,
  bareResultsPerSec: runs.bare.map(perSec),
  sinkResultsPerSec: runs.sink.map(perSec),
  medianBare: perSec(median(runs.bare)),
  medianSink: perSec(median(runs.sink)),
  sinkOverBare: Number((median(runs.bare) / median(runs.sink)).toFixed(3)),
};
writeReport('bench/redis-sink.mjs', report, { start });
client.disconnect();
server.kill('SIGTERM');
