#!/usr/bin/env node
// How onnxruntime-node runs inference, measured: the facts behind the pipeline's worker-thread design
// (docs/benchmarks.md, "Notes on onnxruntime-node"). One JSON object on stdout:
//   mainThread   — `runs` session.run() calls awaited one after another on the main thread, with the event-loop
//                  delay sampled meanwhile (perf_hooks): p50 ≈ one inference means run() holds the JS thread.
//   concurrency  — wall time of one run() vs two started together on the same session.
//   spinning     — single session, `threads` intra-op threads, fps with spinning on (ORT's default) and off.
// Usage: node bench/ort-threading.mjs [--model f.onnx] [--runs 30] [--threads 2]
// The default model is yolox_nano.onnx of the shared assets ($CAMTRACK_ASSETS or ../shared/assets); the input is
// zeros of the model's input shape (timing does not depend on the pixel values for these models).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const assets = process.env.CAMTRACK_ASSETS ?? path.resolve(root, '..', 'shared', 'assets');
const model = path.resolve(opt('model', path.join(assets, 'models', 'yolox_nano.onnx')));
const runs = Number.parseInt(opt('runs', '30'), 10);
const threads = Number.parseInt(opt('threads', '2'), 10);
if (!existsSync(model)) {
  console.error(`model ${model} not found; pass --model <file.onnx> or set CAMTRACK_ASSETS`);
  process.exit(2);
}
if (!(runs >= 2) || !(threads >= 1)) {
  console.error('--runs must be >= 2 and --threads >= 1');
  process.exit(2);
}

// The one report module (issue 15): stamp (tool, version, commit, machine, startedAt) and the statistics.
const { median, round: roundTo, startReport, writeReport } = await import('../dist/bench/report.js');
const round = (v, d = 1) => roundTo(v, d);
const start = startReport();

async function open(intraOpThreads, spinning) {
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
    ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  });
  const name = session.inputNames[0];
  const meta = session.inputMetadata?.[0];
  const dims = (meta?.shape ?? [1, 3, 416, 416]).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const feeds = { [name]: new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims) };
  for (let i = 0; i < 3; i++) await session.run(feeds); // warm-up
  return { session, feeds, dims };
}

async function fps(session, feeds, n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await session.run(feeds);
  return (n / (performance.now() - t0)) * 1000;
}

const { session, feeds, dims } = await open(threads, true);
// 1. The main thread during run(): event-loop delay.
const h = monitorEventLoopDelay({ resolution: 1 });
const perRun = [];
h.enable();
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  await session.run(feeds);
  perRun.push(performance.now() - t0);
  await new Promise((r) => setImmediate(r)); // let the delay monitor sample between runs
}
h.disable();
// 2. One run vs two started together.
const one = [];
const two = [];
for (let i = 0; i < runs; i++) {
  let t0 = performance.now();
  await session.run(feeds);
  one.push(performance.now() - t0);
  t0 = performance.now();
  await Promise.all([session.run(feeds), session.run(feeds)]);
  two.push(performance.now() - t0);
}
// 3. Spinning on vs off (same thread count), alternating, median of 3 each.
const on = [];
const off = [];
const quiet = await open(threads, false);
for (let r = 0; r < 3; r++) {
  on.push(await fps(session, feeds, runs));
  off.push(await fps(quiet.session, quiet.feeds, runs));
}
await session.release();
await quiet.session.release();

writeReport(
  'bench/ort-threading.mjs',
  {
    model,
    inputDims: dims,
    intraOpThreads: threads,
    runs,
    onnxruntimeNode: ort.env.versions?.node ?? null,
    mainThread: {
      runMsMedian: round(median(perRun), 2),
      eventLoopDelayP50Ms: round(h.percentile(50) / 1e6, 2),
      eventLoopDelayMaxMs: round(h.max / 1e6, 2),
    },
    concurrency: { oneRunMsMedian: round(median(one), 2), twoTogetherMsMedian: round(median(two), 2) },
    spinning: { fpsOn: round(median(on)), fpsOff: round(median(off)) },
  },
  { start },
);
