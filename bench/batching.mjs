#!/usr/bin/env node
// Issue 14 part 3's bench (docs/scheduling.md, "Adaptive batching and priorities"): a load ramp of pushed JPEG cameras
// on the built-in demo detector (src/demo/scene-model.ts, written with a symbolic batch dimension), for the adaptive
// batcher (batching.targetLatencyMs) and for each fixed maxBatchSize, all measured in the same run; the machine's raw
// inference rate in the same run (capacity); and priorities under saturation.
//
// - Frames: the synthetic scene (640x360, 50 frames) as JPEGs (ffmpeg -q:v 3), pushed into live pushed streams
//   (pushQueueSize 2: a camera keeps the newest) at --fps each, phases staggered; tracker 'none'.
// - Latency: push() → the frame's 'result' event, on this process's clock (end to end: push queue, decode, batch
//   wait, inference, postprocess, delivery). Frames pushed in the first --warm-seconds of a step are not counted.
// - Ramp: one pipeline per batching config; streams are added step by step (--steps), each step runs --step-seconds.
//   Per step: offered and result rate, p50/p99, drops by cause, and the batcher's state at the end of the step.
// - Raw inference: onnxruntime-node on the model alone, a constant input, for batch sizes 1, 2, 4, 8, as the pipeline
//   runs it (--workers sessions side by side, each with cores/workers intra-op threads): images/s. The best is the
//   stated capacity. It excludes JPEG decode and letterbox, which share the same cores in the ramp.
// - Priorities under saturation: (a) live: --prio-streams cameras (64) at --prio-fps (5, Frigate's default detect
//   rate; 320 frames/s, about twice what this machine infers), a quarter of them 'high' (or --prio-high), adaptive; and
//   the same with every stream 'normal' (control); (b) lossless: 2 high cameras at 10 fps and 4 normal producers
//   pushing as fast as back-pressure allows. High p99 vs normal p50.
// JSON on stdout (and --out). --only priorities: the priority runs alone. --trace: each step also holds the batcher's cap/wait/window p99 every 250 ms. --quick: a short run for CI (shape and invariants only, no speed claims).
//   nice -n 19 node bench/batching.mjs [--target 100] [--fps 10] [--steps 1,2,4,8,12,16] [--step-seconds 6] [--out f]
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    target: { type: 'string', default: '100' },
    fps: { type: 'string', default: '10' },
    'prio-fps': { type: 'string', default: '5' },
    steps: { type: 'string' },
    'step-seconds': { type: 'string' },
    'warm-seconds': { type: 'string' },
    fixed: { type: 'string' },
    'raw-seconds': { type: 'string' },
    'prio-streams': { type: 'string' },
    'prio-high': { type: 'string' },
    'prio-seconds': { type: 'string' },
    out: { type: 'string' },
    trace: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const quick = values.quick;
// --only priorities: the priority runs alone (no raw inference, no ramp).
const prioOnly = values.only === 'priorities';
if (values.only !== undefined && !prioOnly) throw new Error(`--only: 'priorities' is the one part that runs alone, not '${values.only}'`);
const target = Number(values.target);
const fps = Number(values.fps);
const prioFps = Number(values['prio-fps']);
const steps = (values.steps ?? (quick ? '1,4' : '1,2,4,8,12,16')).split(',').map(Number);
const stepSeconds = Number(values['step-seconds'] ?? (quick ? 2 : 6));
const warmSeconds = Number(values['warm-seconds'] ?? (quick ? 0.5 : 1.5));
const fixedSizes = (values.fixed ?? (quick ? '1,4' : '1,2,4,8')).split(',').map(Number);
const rawSeconds = Number(values['raw-seconds'] ?? (quick ? 0.5 : 3));
const prioStreams = Number(values['prio-streams'] ?? (quick ? 16 : 64));
const prioSeconds = Number(values['prio-seconds'] ?? (quick ? 2 : 8));
const workers = Math.min(2, os.availableParallelism());

const { Pipeline } = await import('../dist/index.js');
const { ensureDemoAssets } = await import('../dist/demo/scene-model.js');
const { findFfmpeg } = await import('../dist/demo/scene.js');
// The one report module (issue 15): stamp (tool, version, commit, machine, startedAt) and nearest-rank percentiles.
const { latencySummary, startReport, writeReport } = await import('../dist/bench/report.js');

const round = (x, d = 1) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);
const summary = (lat) => latencySummary(lat, 1);

/** Raw inference, images/s, of `batch`-image batches: `sessions` sessions side by side (the pipeline's workers). */
async function rawInference(modelPath, batch, seconds, sessions, threads) {
  const ort = await import('onnxruntime-node');
  const all = await Promise.all(
    Array.from({ length: sessions }, () => ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1 })),
  );
  const name = all[0].inputNames[0];
  const dims = [batch, 3, 320, 320];
  const input = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.5), dims);
  for (const s of all) for (let i = 0; i < 2; i++) await s.run({ [name]: input });
  const t0 = performance.now();
  const runs = await Promise.all(
    all.map(async (s) => {
      let n = 0;
      while (performance.now() - t0 < seconds * 1000) {
        await s.run({ [name]: input });
        n++;
      }
      return n;
    }),
  );
  const n = runs.reduce((a, b) => a + b, 0);
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(all.map((s) => s.release()));
  return { batch, sessions, intraOpThreads: threads, imagesPerSecond: round((n * batch) / secs), msPerBatch: round((secs * 1000 * sessions) / n, 2) };
}

/** A live pushed camera: pushes frames on its own timer, records push → result latencies. */
function camera(pipeline, jpegs, id, options = {}, rate = fps) {
  const s = pipeline.addStream({ id, input: 'push', codec: 'jpeg', live: true, pushQueueSize: 2, ...options });
  const cam = { s, id, sent: new Map(), lat: [], results: 0, pushed: 0, countFrom: Infinity, next: 0, timer: null };
  s.on('result', (r) => {
    const t = cam.sent.get(r.frameId);
    cam.sent.delete(r.frameId);
    if (t === undefined) return;
    cam.results++;
    if (t >= cam.countFrom) cam.lat.push(performance.now() - t);
  });
  s.on('warning', () => {});
  cam.start = (phaseMs) => {
    const tick = () => {
      const id = cam.next++;
      const now = performance.now();
      cam.sent.set(id, now);
      if (cam.sent.size > 1000) cam.sent.delete(cam.sent.keys().next().value); // dropped frames never come back
      s.push(jpegs[id % jpegs.length], { frameId: id });
      cam.pushed++;
    };
    cam.timer = setTimeout(() => {
      tick();
      cam.timer = setInterval(tick, 1000 / rate);
    }, phaseMs);
  };
  cam.stop = () => {
    clearTimeout(cam.timer);
    clearInterval(cam.timer);
  };
  return cam;
}

const dropsOf = (stats) => {
  const d = { busy: 0, queue: 0, inference: 0 };
  for (const s of stats.streams) {
    d.busy += s.dropped.busy;
    d.inference += s.dropped.inference;
    d.queue += s.push?.dropped.queue ?? 0;
  }
  return d;
};

/** One batching config over the ramp. */
async function ramp(modelPath, classNames, jpegs, label, batching) {
  const pipeline = await Pipeline.create({ model: { path: modelPath, classNames }, tracker: { type: 'none' }, batching });
  const cams = [];
  const out = [];
  try {
    for (const n of steps) {
      while (cams.length < n) {
        const c = camera(pipeline, jpegs, `cam${cams.length}`);
        c.start(Math.random() * (1000 / fps));
        cams.push(c);
      }
      const before = pipeline.stats();
      const d0 = dropsOf(before);
      const t0 = performance.now();
      for (const c of cams) Object.assign(c, { lat: [], results: 0, countFrom: t0 + warmSeconds * 1000 });
      const pushed0 = cams.reduce((a, c) => a + c.pushed, 0);
      // --trace: the batcher's cap, wait and window p99 every 250 ms of the step (how the controller moved).
      const trace = [];
      const tracer = values.trace
        ? setInterval(() => {
            const b = pipeline.stats().batching;
            trace.push([round((performance.now() - t0) / 1000, 2), b.batchCap, round(b.waitMs), round(b.windowP99Ms)]);
          }, 250)
        : null;
      await sleep(stepSeconds * 1000);
      clearInterval(tracer);
      const t1 = performance.now();
      const after = pipeline.stats();
      const d1 = dropsOf(after);
      const lat = cams.flatMap((c) => c.lat);
      const measured = (t1 - (t0 + warmSeconds * 1000)) / 1000;
      const step = {
        streams: n,
        offeredFps: round((cams.reduce((a, c) => a + c.pushed, 0) - pushed0) / ((t1 - t0) / 1000)),
        // Results of frames pushed after the warm-up, per second of the measured part of the step.
        resultFps: round(lat.length / measured),
        latencyMs: summary(lat),
        drops: { busy: d1.busy - d0.busy, queue: d1.queue - d0.queue, inference: d1.inference - d0.inference },
        meanBatchFill: round((after.images - before.images) / Math.max(1, after.batches - before.batches), 2),
        batching: { mode: after.batching.mode, batchCap: after.batching.batchCap, waitMs: round(after.batching.waitMs), windowP99Ms: round(after.batching.windowP99Ms) },
        loadAverage1m: round(os.loadavg()[0], 2),
        ...(values.trace ? { trace: { columns: ['s', 'cap', 'waitMs', 'windowP99Ms'], rows: trace } } : {}),
      };
      out.push(step);
      process.stderr.write(`${label} ${JSON.stringify(step)}\n`);
    }
  } finally {
    for (const c of cams) c.stop();
    await pipeline.close();
  }
  return { config: label, batching, steps: out };
}

/** (a) live cameras under saturation, a quarter high (or none: the control). */
async function prioritiesLive(modelPath, classNames, jpegs, withHigh) {
  const pipeline = await Pipeline.create({ model: { path: modelPath, classNames }, tracker: { type: 'none' }, batching: { maxBatchSize: 8, targetLatencyMs: target } });
  const nHigh = values['prio-high'] !== undefined ? Number(values['prio-high']) : Math.max(1, Math.round(prioStreams / 4));
  const cams = Array.from({ length: prioStreams }, (_, i) => camera(pipeline, jpegs, `cam${i}`, { priority: withHigh && i < nHigh ? 'high' : 'normal' }, prioFps));
  const t0 = performance.now();
  for (const c of cams) {
    c.countFrom = t0 + warmSeconds * 1000;
    c.start(Math.random() * (1000 / prioFps));
  }
  await sleep(prioSeconds * 1000);
  for (const c of cams) c.stop();
  const stats = pipeline.stats();
  await pipeline.close();
  const high = cams.slice(0, nHigh);
  const normal = cams.slice(nHigh);
  const share = (cs) => round(cs.reduce((a, c) => a + c.results, 0) / Math.max(1, cs.reduce((a, c) => a + c.pushed, 0)), 3);
  return {
    streams: prioStreams,
    highStreams: withHigh ? nHigh : 0,
    fpsEach: prioFps,
    offeredFps: round(prioStreams * prioFps),
    // "high" = the first quarter of the cameras (priority 'high' only when highStreams > 0).
    high: { latencyMs: summary(high.flatMap((c) => c.lat)), deliveredShare: share(high) },
    normal: { latencyMs: summary(normal.flatMap((c) => c.lat)), deliveredShare: share(normal) },
    starvationPromotions: stats.batching.starvationPromotions,
    batching: { batchCap: stats.batching.batchCap, waitMs: round(stats.batching.waitMs) },
  };
}

/** (b) lossless: 2 high cameras at 10 fps, 4 normal producers as fast as back-pressure allows. */
async function prioritiesLossless(modelPath, classNames, jpegs) {
  const pipeline = await Pipeline.create({ model: { path: modelPath, classNames }, tracker: { type: 'none' }, batching: { maxBatchSize: 8, targetLatencyMs: target } });
  const lat = { high: [], normal: [] };
  const mk = (id, priority) => {
    const s = pipeline.addStream({ id, input: 'push', codec: 'jpeg', live: false, priority });
    const p = { s, sent: new Map(), pushed: 0, got: 0 };
    s.on('result', (r) => {
      const t = p.sent.get(r.frameId);
      p.sent.delete(r.frameId);
      p.got++;
      if (t !== undefined) lat[priority].push(performance.now() - t);
    });
    return p;
  };
  const normals = Array.from({ length: 4 }, (_, i) => mk(`n${i}`, 'normal'));
  const highs = Array.from({ length: 2 }, (_, i) => mk(`h${i}`, 'high'));
  const deadline = performance.now() + prioSeconds * 1000;
  const flood = async (p) => {
    while (performance.now() < deadline) {
      const id = p.pushed++;
      p.sent.set(id, performance.now());
      if (!p.s.push(jpegs[id % jpegs.length], { frameId: id })) await once(p.s, 'drain');
    }
    p.s.end();
  };
  const paced = async (p) => {
    const start = performance.now();
    let full = false;
    for (let i = 0; performance.now() < deadline; i++) {
      const wait = start + i * 100 - performance.now();
      if (wait > 0) await sleep(wait);
      if (full) continue; // lossless and full: skip this tick (a push now would be refused)
      const id = p.pushed++;
      p.sent.set(id, performance.now());
      if (!p.s.push(jpegs[id % jpegs.length], { frameId: id })) {
        full = true;
        p.s.once('drain', () => (full = false));
      }
    }
    p.s.end();
  };
  await Promise.all([...normals.map(flood), ...highs.map(paced)]);
  await Promise.all([...normals, ...highs].map((p) => p.s.whenEnded()));
  const stats = pipeline.stats();
  await pipeline.close();
  return {
    high: { streams: 2, fpsEach: 10, latencyMs: summary(lat.high), pushed: highs.reduce((a, p) => a + p.pushed, 0), results: highs.reduce((a, p) => a + p.got, 0) },
    normal: { streams: 4, latencyMs: summary(lat.normal), pushed: normals.reduce((a, p) => a + p.pushed, 0), results: normals.reduce((a, p) => a + p.got, 0) },
    starvationPromotions: stats.batching.starvationPromotions,
  };
}

async function main() {
  const start = startReport(); // the machine and its load before anything ran
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'camtrack-bench-batching-'));
  try {
    const assets = await ensureDemoAssets(tmp, { streams: 1, batch: 'dynamic', scene: { frames: 50, fps: 25 } });
    const jpegDir = path.join(tmp, 'jpeg');
    mkdirSync(jpegDir);
    const dec = spawnSync(findFfmpeg(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', assets.streams[0].videoPath, '-q:v', '3', path.join(jpegDir, '%04d.jpg')]);
    if (dec.status !== 0) throw new Error(`ffmpeg: ${dec.stderr}`);
    const jpegs = readdirSync(jpegDir).sort().map((f) => readFileSync(path.join(jpegDir, f)));

    const threads = Math.max(1, Math.floor(os.availableParallelism() / workers));
    const raw = [];
    if (!prioOnly) for (const b of [1, 2, 4, 8]) raw.push(await rawInference(assets.modelPath, b, rawSeconds, workers, threads));
    process.stderr.write(`raw inference: ${JSON.stringify(raw)}\n`);
    const capacityFps = prioOnly ? null : Math.max(...raw.map((r) => r.imagesPerSecond));

    const configs = prioOnly ? [] : [['adaptive', { maxBatchSize: 8, targetLatencyMs: target }], ...fixedSizes.map((b) => [`fixed-${b}`, { maxBatchSize: b }])];
    const runs = [];
    for (const [label, batching] of configs) runs.push(await ramp(assets.modelPath, assets.classNames, jpegs, label, batching));

    // The criteria, per step, from this run's figures.
    const adaptive = runs[0];
    const criteria = (prioOnly ? [] : steps).map((n, i) => {
      const a = adaptive.steps[i];
      const meeting = runs.slice(1).filter((r) => r.steps[i].latencyMs.p99 !== null && r.steps[i].latencyMs.p99 <= target);
      const best = meeting.sort((x, y) => y.steps[i].resultFps - x.steps[i].resultFps)[0];
      return {
        streams: n,
        offeredFps: a.offeredFps,
        withinCapacity: a.offeredFps <= capacityFps,
        adaptiveP99Ms: a.latencyMs.p99,
        adaptiveMeetsTarget: a.latencyMs.p99 !== null && a.latencyMs.p99 <= target,
        adaptiveResultFps: a.resultFps,
        bestFixedMeetingTarget: best ? best.config : null,
        bestFixedResultFps: best ? best.steps[i].resultFps : null,
        throughputRatio: best && best.steps[i].resultFps > 0 ? round(a.resultFps / best.steps[i].resultFps, 3) : null,
      };
    });

    const live = await prioritiesLive(assets.modelPath, assets.classNames, jpegs, true);
    process.stderr.write(`priorities live: ${JSON.stringify(live)}\n`);
    const control = await prioritiesLive(assets.modelPath, assets.classNames, jpegs, false);
    process.stderr.write(`priorities live control: ${JSON.stringify(control)}\n`);
    const lossless = await prioritiesLossless(assets.modelPath, assets.classNames, jpegs);
    process.stderr.write(`priorities lossless: ${JSON.stringify(lossless)}\n`);

    const report = {
      bench: 'batching',
      quick,
      model: 'demo detector (src/demo/scene-model.ts), 320x320, symbolic batch',
      frame: '640x360 JPEG (synthetic scene, ffmpeg -q:v 3)',
      targetLatencyMs: target,
      fpsPerStream: fps,
      stepSeconds,
      warmSeconds,
      inferenceWorkers: workers,
      rawInference: raw,
      capacityFps,
      ramps: runs,
      criteria,
      priorities: {
        live,
        liveControl: control,
        lossless,
        liveHighP99BelowNormalP50: live.high.latencyMs.p99 !== null && live.normal.latencyMs.p50 !== null && live.high.latencyMs.p99 < live.normal.latencyMs.p50,
        losslessHighP99BelowNormalP50:
          lossless.high.latencyMs.p99 !== null && lossless.normal.latencyMs.p50 !== null && lossless.high.latencyMs.p99 < lossless.normal.latencyMs.p50,
      },
    };
    writeReport('bench/batching.mjs', report, { out: values.out, start });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
