#!/usr/bin/env node
// Issue 14's moonshot for small CPU deployments: --cameras pushed 1080p JPEG cameras (default 200) at --fps frames/s
// each (default 2: 400 frames/s in), decoded at DCT scale (pushed JPEGs are: docs/push.md), motion-gated
// (motion.enabled) and tracked (ByteTrack), through one CameraRegistry in this process, the library's own path (no
// service in front). Reported: the share of pushed frames answered (a result, inferred or motion-skipped) within the
// run, the push → result latency p50/p99 of the answered ones, the not-answered by cause from the cameras' stats
// over the window (push queue, busy batch slot; a window frame dropped after the window's end, at most one per camera,
// is not among them), the cameras pushing on until the window's frames have settled, inferences vs motion skips, the event loop's delay, and, measured first in the same
// run, the machine's raw inference rate on the model (onnxruntime-node alone) to say what bounds the result.
//   node bench/moonshot.mjs [--model yolo11n_int8_320.onnx] [--cameras 200] [--fps 2] [--seconds 30] [--out file.json]
// Frames: walking.mp4 (shared assets), every 12th frame (about 0.5 s of the 25 fps clip, i.e. what a 2 fps camera
// sees), scaled to 1920×1080, JPEG q:v 5 (ffmpeg); camera i starts at frame i mod n, so the cameras differ.
// --static-share s: that share of the cameras (spread over the ids) watch a still scene, pushing one frame over and
// over, as most cameras of a site do most of the time (Frigate's case for motion gating); default 0: all move.
// JSON on stdout (and --out).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const assets = process.env.CAMTRACK_ASSETS ?? path.join(root, '..', 'shared', 'assets');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: path.join(assets, 'models', 'yolo11n_int8_320.onnx') },
    cameras: { type: 'string', default: '200' },
    fps: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '30' },
    'warmup-seconds': { type: 'string', default: '5' },
    'raw-seconds': { type: 'string', default: '6' },
    'static-share': { type: 'string', default: '0' },
    out: { type: 'string' },
  },
});
const CAMERAS = Number(values.cameras);
const FPS = Number(values.fps);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values['warmup-seconds']);
/** Share of the cameras that watch a still scene (they push the same frame every time): motion gating's case. */
const STATIC_SHARE = Number(values['static-share']);
const isStatic = (i) => (i % 20) < Math.round(STATIC_SHARE * 20);

const round = (x, d = 1) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);

/** onnxruntime-node alone on the model, one sequential session with its default threads: frames/s. */
async function rawInferenceFps(seconds) {
  const ort = await import('onnxruntime-node');
  const s = await ort.InferenceSession.create(values.model);
  const name = s.inputNames[0];
  const dims = s.inputMetadata?.[0]?.shape?.map((d) => (typeof d === 'number' ? d : 1)) ?? [1, 3, 320, 320];
  const input = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.5), dims);
  for (let i = 0; i < 3; i++) await s.run({ [name]: input });
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await s.run({ [name]: input });
    n++;
  }
  const fps = (n * dims[0]) / ((performance.now() - t0) / 1000);
  await s.release();
  return { fps: round(fps), runs: n, input: dims };
}

function frames() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-moonshot-'));
  const r = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', path.join(assets, 'videos', 'walking.mp4'), '-vf', 'select=not(mod(n\\,12)),scale=1920:1080', '-fps_mode', 'vfr', '-q:v', '5', path.join(dir, 'f%03d.jpg')],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  const out = readdirSync(dir)
    .sort()
    .map((f) => readFileSync(path.join(dir, f)));
  rmSync(dir, { recursive: true, force: true });
  return out;
}

const { CameraRegistry } = await import('../dist/index.js');
// The one report module (issue 15): stamp (tool, version, commit, machine, startedAt) and the nearest-rank percentile.
const { percentile, startReport, writeReport } = await import('../dist/bench/report.js');
const pct = (xs, q) => (xs.length ? percentile(xs, q) : null);
const reportStart = startReport();
const jpegs = frames();
const raw = await rawInferenceFps(Number(values['raw-seconds']));

const registry = await CameraRegistry.create({ model: values.model, tracker: { type: 'bytetrack' } });
const ids = Array.from({ length: CAMERAS }, (_, i) => `cam${String(i).padStart(3, '0')}`);
for (const id of ids) await registry.add({ id, input: 'push', codec: 'jpeg', live: true, motion: { enabled: true } });

// frame ids: per camera 1, 2, …; sent[id][frameId] = push time (ms); measured pushes are those of the window.
const sent = new Map(ids.map((id) => [id, new Map()]));
const latencies = [];
let windowStart = Infinity;
let windowEnd = Infinity;
let answered = 0;
let answeredInferred = 0;
registry.on('result', (r) => {
  const t = sent.get(r.streamId)?.get(r.frameId);
  if (t === undefined) return;
  sent.get(r.streamId).delete(r.frameId);
  if (t < windowStart || t >= windowEnd) return;
  answered++;
  if (r.inferred) answeredInferred++;
  latencies.push(performance.now() - t);
});

const loop = monitorEventLoopDelay({ resolution: 1 });
const next = ids.map((_, i) => (i / CAMERAS) * (1000 / FPS)); // staggered over one period
const frameNo = ids.map(() => 0);
let pushedInWindow = 0;
let refused = 0;
const t0 = performance.now();
const stopAt = t0 + (WARMUP + SECONDS) * 1000;
let statsAtStart;
let statsAtEnd;
// The cameras go on pushing after the window, until the window's frames have settled: a live pushed frame that finds
// no batch position waits until its camera pushes a newer one (docs/scheduling.md), so cameras that stopped at the
// window's end would leave their last frames waiting behind every other camera's, a tail no steady load has.
let stopPushing = false;
await new Promise((resolve) => {
  const tick = () => {
    if (stopPushing) return;
    const now = performance.now();
    if (now - t0 >= WARMUP * 1000 && windowStart === Infinity) {
      windowStart = now;
      statsAtStart = registry.stats();
      loop.enable();
    }
    if (now >= stopAt && windowEnd === Infinity) {
      windowEnd = now;
      statsAtEnd = registry.stats();
      resolve();
    }
    for (let i = 0; i < CAMERAS; i++) {
      if (now - t0 < next[i]) continue;
      next[i] += 1000 / FPS;
      const id = ids[i];
      const n = ++frameNo[i];
      const bytes = jpegs[isStatic(i) ? i % jpegs.length : (i + n) % jpegs.length];
      try {
        registry.push(id, bytes, { frameId: n });
        if (windowEnd === Infinity) sent.get(id).set(n, performance.now());
        if (windowStart !== Infinity && windowEnd === Infinity) pushedInWindow++;
      } catch {
        refused++;
      }
    }
    setTimeout(tick, 5);
  };
  tick();
});
// Results of the window's last pushes: wait up to 10 s for them (a latency beyond that counts as not answered).
const settle = performance.now();
while (performance.now() - settle < 10_000 && [...sent.values()].some((m) => [...m.values()].some((t) => t >= windowStart && t < windowEnd))) {
  await new Promise((r) => setTimeout(r, 100));
}
stopPushing = true;
loop.disable();
await registry.close();

/** Sum of a counter over the cameras between the two stats reads. */
function delta(get) {
  const byId = (stats) => new Map(stats.cameras.map((s) => [s.id, s]));
  const start = byId(statsAtStart);
  const end = byId(statsAtEnd);
  let n = 0;
  for (const id of ids) {
    const a = start.get(id);
    const b = end.get(id);
    if (a && b) n += (get(b) ?? 0) - (get(a) ?? 0);
  }
  return n;
}

latencies.sort((a, b) => a - b);
const result = {
  bench: 'moonshot',
  model: path.basename(values.model),
  cameras: CAMERAS,
  fps_per_camera: FPS,
  static_cameras: ids.filter((_, i) => isStatic(i)).length,
  frame: { width: 1920, height: 1080, jpeg_bytes_mean: Math.round(jpegs.reduce((a, b) => a + b.length, 0) / jpegs.length), distinct: jpegs.length },
  seconds: round((windowEnd - windowStart) / 1000),
  raw_inference_fps: raw.fps,
  pushed: pushedInWindow,
  offered_fps: round(pushedInWindow / ((windowEnd - windowStart) / 1000)),
  answered,
  answered_share: round(answered / Math.max(1, pushedInWindow), 3),
  answered_inferred: answeredInferred,
  answered_motion_skipped: answered - answeredInferred,
  latency_ms: { p50: round(pct(latencies, 0.5)), p90: round(pct(latencies, 0.9)), p99: round(pct(latencies, 0.99)), max: round(latencies.at(-1) ?? null) },
  not_answered_by_cause: {
    push_queue: delta((s) => s.push?.dropped.queue),
    busy: delta((s) => s.dropped.busy),
    breaker: delta((s) => s.dropped.breaker),
    inference: delta((s) => s.dropped.inference),
    corrupt: delta((s) => s.framesCorrupt),
    refused,
  },
  decoded: delta((s) => s.framesDecoded),
  skipped_motion: delta((s) => s.skipped.motion),
  event_loop_delay_ms: { p50: round(loop.percentile(50) / 1e6), p99: round(loop.percentile(99) / 1e6), max: round(loop.max / 1e6) },
};
writeReport('bench/moonshot.mjs', result, { out: values.out, start: reportStart });
