#!/usr/bin/env node
// Issue 12's load scenario for the detection sessions of `camtrack serve` (docs/sessions.md, "Measured"):
//   A: --sessions WebSocket sessions (default 50) × --fps-a frames/s each (default 2: 100 frames/s in all);
//   B: the same sessions × --fps-b frames/s each (default 10: 500 frames/s, beyond this machine's capacity).
// The server (fastify + @fastify/websocket + the sessions plugin on a CameraRegistry, --model) runs in a child
// process, so its RSS (VmRSS, sampled every 250 ms) is the server's alone; the clients are `ws` clients in this
// process, each sending JPEG frames of walking.mp4 (640×360, ffmpeg -q:v 5) as { type: 'frame', image_data } messages
// at its rate, staggered. Latency: send → its detection_result (matched by frame_id), on the client's clock.
// Drops: the server's per-session stats (GET /stream/stats) after each phase, by cause. Before the phases, in the same
// run, the machine's raw inference rate: onnxruntime-node on the model alone (--raw-seconds each): one session with
// onnxruntime's default threads, and as many concurrent sessions as the pipeline has inference workers.
// JSON on stdout (and --out).
//   node bench/sessions.mjs [--model yolo11n_int8_320.onnx] [--sessions 50] [--fps-a 2] [--fps-b 10] [--seconds 20]
// --model demo: the built-in demo detector (src/demo/scene-model.ts: a real ONNX model with hand-set weights, 320x320,
// dynamic batch), written to a temp file first. Its raw rate is several times the shared nano models' on this 2-core
// machine, so phase A is within capacity there and measures the service's own latency (the shared models reach
// ~30 frames/s here: 100 frames/s is beyond them).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const assets = process.env.CAMTRACK_ASSETS ?? path.join(root, '..', 'shared', 'assets');
const { values } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    model: { type: 'string', default: path.join(assets, 'models', 'yolo11n_int8_320.onnx') },
    sessions: { type: 'string', default: '50' },
    'fps-a': { type: 'string', default: '2' },
    'fps-b': { type: 'string', default: '10' },
    seconds: { type: 'string', default: '20' },
    'raw-seconds': { type: 'string', default: '8' },
    out: { type: 'string' },
  },
});

if (values.model === 'demo' && !values.serve) {
  const { buildSceneDetectorOnnx, sceneDetectorOptionsFor } = await import('../dist/demo/scene-model.js');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-bench-demo-'));
  values.model = path.join(dir, 'demo-detector-dynamic.onnx');
  writeFileSync(values.model, buildSceneDetectorOnnx({ ...sceneDetectorOptionsFor({}, 320), batch: 'dynamic' }));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}

// The one report module (issue 15): stamp (tool, version, commit, machine, startedAt) and the nearest-rank percentile.
const { percentile, startReport, writeReport } = await import('../dist/bench/report.js');
const quantile = (sorted, q) => (sorted.length === 0 ? null : percentile(sorted, q));
const round = (x, d = 1) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);

/**
 * The machine's raw inference rate on the model, onnxruntime-node alone on a constant input: `sessions` sessions
 * running side by side, each sequential, each with `threads` intra-op threads (0 = onnxruntime's default).
 */
async function rawInferenceFps(seconds, sessions, threads) {
  const ort = await import('onnxruntime-node');
  const opts = threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {};
  const all = await Promise.all(Array.from({ length: sessions }, () => ort.InferenceSession.create(values.model, opts)));
  const name = all[0].inputNames[0];
  const dims = all[0].inputMetadata?.[0]?.shape?.map((d) => (typeof d === 'number' ? d : 1)) ?? [1, 3, 320, 320];
  const input = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.5), dims);
  for (const s of all) for (let i = 0; i < 3; i++) await s.run({ [name]: input });
  const t0 = performance.now();
  const counts = await Promise.all(
    all.map(async (s) => {
      let n = 0;
      while (performance.now() - t0 < seconds * 1000) {
        await s.run({ [name]: input });
        n++;
      }
      return n;
    }),
  );
  const n = counts.reduce((a, b) => a + b, 0);
  const fps = n / ((performance.now() - t0) / 1000);
  await Promise.all(all.map((s) => s.release()));
  return { sessions, intraOpThreads: threads || 'default', fps: round(fps), runs: n };
}

/** CPU seconds (user + system) a process used so far, from /proc (clock ticks of 1/100 s). */
function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function main() {
  const start = startReport(); // the machine and its load before anything ran
  const { default: WebSocket } = await import('ws');
  const nSessions = Number(values.sessions);
  const seconds = Number(values.seconds);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'camtrack-sessions-bench-'));
  const ff = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-ss', '2', '-i', path.join(assets, 'videos', 'walking.mp4'), '-frames:v', '30', '-vf', 'scale=640:360', '-c:v', 'mjpeg', '-q:v', '5', path.join(tmp, '%03d.jpg')]);
  if (ff.status !== 0) throw new Error(`ffmpeg: ${ff.stderr}`);
  const frames = readdirSync(tmp).sort().map((f) => readFileSync(path.join(tmp, f)).toString('base64'));
  rmSync(tmp, { recursive: true, force: true });

  // As one onnxruntime session uses the machine by default, and as the pipeline's inference workers do (2 workers of
  // cores/2 intra-op threads each on this 2-core machine: the registry's defaults).
  const workers = Math.min(2, os.cpus().length);
  const raw = [
    await rawInferenceFps(Number(values['raw-seconds']), 1, 0),
    await rawInferenceFps(Number(values['raw-seconds']), workers, Math.max(1, Math.floor(os.cpus().length / workers))),
  ];
  process.stderr.write(`raw inference: ${JSON.stringify(raw)}\n`);

  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', '--model', values.model], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const line = buf.split('\n')[0];
      if (buf.includes('\n')) resolve(JSON.parse(line).url);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const rssStart = rssMiB(child.pid);

  // The sessions, opened one after the other (the first starts the model's pipeline).
  const clients = [];
  for (let i = 0; i < nSessions; i++) {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/stream/detection`);
    const c = { ws, id: undefined, sent: new Map(), latencies: [], results: 0, errors: 0, socketErrors: 0, nextId: 0 };
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.type === 'session') c.id = m.client_id;
      else if (m.type === 'detection_result') {
        const t = c.sent.get(m.data.frame_id);
        if (t !== undefined) {
          c.latencies.push(performance.now() - t);
          c.sent.delete(m.data.frame_id);
        }
        c.results++;
      } else if (m.type === 'error') c.errors++;
    });
    ws.on('error', () => c.socketErrors++);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    clients.push(c);
  }
  const rssOpen = rssMiB(child.pid);

  const stats = async () => (await (await fetch(`${url}/stream/stats`)).json());
  const phases = [];
  let before = await stats();
  for (const [label, fps] of [['A', Number(values['fps-a'])], ['B', Number(values['fps-b'])]]) {
    for (const c of clients) Object.assign(c, { latencies: [], results: 0, errors: 0, sent: new Map() });
    let rssMax = 0;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMiB(child.pid) ?? 0)), 250);
    const interval = 1000 / fps;
    const cpu0 = { server: cpuSeconds(child.pid), clients: process.cpuUsage() };
    const t0 = performance.now();
    let sentTotal = 0;
    const timers = clients.map((c, i) =>
      setTimeout(() => {
        const tick = () => {
          const id = c.nextId++;
          c.sent.set(id, performance.now());
          c.ws.send(`{"type":"frame","frame_id":${id},"timestamp":${Date.now() / 1000},"image_data":"${frames[id % frames.length]}"}`);
          sentTotal++;
        };
        tick();
        c.timer = setInterval(tick, interval);
      }, (i * interval) / clients.length),
    );
    await new Promise((r) => setTimeout(r, seconds * 1000));
    for (const t of timers) clearTimeout(t);
    for (const c of clients) clearInterval(c.timer);
    const sendSeconds = (performance.now() - t0) / 1000;
    const serverCpu = (cpuSeconds(child.pid) - cpu0.server) / sendSeconds;
    const c1 = process.cpuUsage(cpu0.clients);
    const clientsCpu = (c1.user + c1.system) / 1e6 / sendSeconds;
    const load = os.loadavg()[0];
    await new Promise((r) => setTimeout(r, 3000)); // results in flight arrive
    clearInterval(sampler);
    const after = await stats();
    const perSession = after.clients.map((s) => {
      const b = before.clients.find((x) => x.client_id === s.client_id);
      const d = {};
      for (const k of Object.keys(s.dropped)) d[k] = s.dropped[k] - (b?.dropped[k] ?? 0);
      return { received: s.frames_received - (b?.frames_received ?? 0), results: s.results_sent - (b?.results_sent ?? 0), dropped: d };
    });
    const lat = clients.flatMap((c) => c.latencies).sort((a, b) => a - b);
    const drops = {};
    for (const s of perSession) for (const [k, v] of Object.entries(s.dropped)) drops[k] = (drops[k] ?? 0) + v;
    const droppedPerSession = perSession.map((s) => Object.values(s.dropped).reduce((a, b) => a + b, 0)).sort((a, b) => a - b);
    const resultsPerSession = clients.map((c) => c.results).sort((a, b) => a - b);
    phases.push({
      phase: label,
      sessions: clients.length,
      fpsPerSession: fps,
      offeredFps: round(sentTotal / sendSeconds),
      seconds: round(sendSeconds),
      framesSent: sentTotal,
      results: clients.reduce((a, c) => a + c.results, 0),
      resultFps: round(clients.reduce((a, c) => a + c.results, 0) / sendSeconds),
      errors: clients.reduce((a, c) => a + c.errors + c.socketErrors, 0),
      latencyMs: { p50: round(quantile(lat, 0.5)), p90: round(quantile(lat, 0.9)), p99: round(quantile(lat, 0.99)), max: round(lat.at(-1) ?? null) },
      dropsByCause: drops,
      dropsPerSession: { min: droppedPerSession[0], median: quantile(droppedPerSession, 0.5), max: droppedPerSession.at(-1) },
      resultsPerSession: { min: resultsPerSession[0], median: quantile(resultsPerSession, 0.5), max: resultsPerSession.at(-1) },
      everySessionServed: resultsPerSession[0] > 0,
      serverRssMiB: { max: round(rssMax), end: round(rssMiB(child.pid)) },
      // CPU cores in use while frames were sent: the server (decode, inference, tracking, ws) and this process (50 clients).
      cpuCores: { server: round(serverCpu, 2), clients: round(clientsCpu, 2), loadAverage1m: round(load, 2) },
    });
    process.stderr.write(`${JSON.stringify(phases.at(-1))}\n`);
    before = after;
  }
  for (const c of clients) c.ws.close();
  child.kill('SIGTERM');
  const report = {
    bench: 'sessions',
    model: path.basename(values.model),
    frame: '640x360 JPEG (walking.mp4, ffmpeg -q:v 5)',
    rawInference: raw,
    serverRssMiB: { start: round(rssStart), sessionsOpen: round(rssOpen) },
    phases,
  };
  writeReport('bench/sessions.mjs', report, { out: values.out, start });
}

if (values.serve) {
  // The server: what app.ts does for the sessions (websocket registered once, then the plugin).
  const { default: Fastify } = await import('fastify');
  const { default: fastifyWebsocket } = await import('@fastify/websocket');
  const { CameraRegistry } = await import('../dist/cameras/registry.js');
  const { default: sessionRoutes, sessionWebSocketMaxPayload } = await import('../dist/server/routes/sessions.js');
  const registry = await CameraRegistry.create({ model: values.model, streams: [] });
  const app = Fastify({ logger: false });
  await app.register(fastifyWebsocket, { options: { maxPayload: sessionWebSocketMaxPayload() } });
  await app.register(sessionRoutes, { registry });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(JSON.stringify({ url }) + '\n');
  process.on('SIGTERM', async () => {
    await app.close();
    await registry.close();
    process.exit(0);
  });
} else {
  await main();
}
