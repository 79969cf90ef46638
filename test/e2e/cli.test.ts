/**
 * The `camtrack` command as a user runs it (bin/camtrack.js → dist/): demo on the built-in scene, run --config with
 * wire-format JSON lines (validated with the wire schemas), doctor, bench (a short run: the report's shape and counts, not its speed), config schema. Each spawns a real process;
 * nothing is mocked. Demo on a live source runs against the real RTSP server (test/helpers/rtsp-server.ts).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { missingProvider, type ProviderStatus } from '../../dist/backends/providers.js';
import { configJsonSchema } from '../../dist/config.js';
import { assetPath, describeWithAssets, isCi, repoRoot } from '../helpers/assets.js';
import { killAllTracked, spawnTracked } from '../helpers/processes.js';
import { rtspServerUnavailableReason, startRtspServer, type RtspServer } from '../helpers/rtsp-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';
import { expectValid, nonSnakeKeys, validateWireEvent, validateWireResult } from '../helpers/wire.js';

const bin = path.join(repoRoot, 'bin', 'camtrack.js');
const tmp = lazyTempDir('camtrack-cli-');

function camtrack(args: string[], timeoutMs = 240_000, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, CAMTRACK_CACHE_DIR: path.join(tmp(), 'cache'), ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The CLI as a child the test can signal while it runs (spawnSync would block this thread). `onStdout` sees the
 * output so far and may call `signal`. Resolves when the process exits; killed after `timeoutMs`.
 */
function camtrackAsync(
  args: string[],
  timeoutMs: number,
  onStdout?: (stdout: string, signal: (s: NodeJS.Signals) => void) => void,
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawnTracked(process.execPath, [bin, ...args], { env: { ...process.env, CAMTRACK_CACHE_DIR: path.join(tmp(), 'cache') } });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    onStdout?.(stdout, (s) => child.kill(s));
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    }),
  );
}

/** The JSON lines of `text`, each checked against `validate` (a wire schema) and for snake_case keys. */
function wireLines(text: string, validate: typeof validateWireResult): unknown[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const message = JSON.parse(line) as unknown;
      expectValid(validate, message);
      expect(nonSnakeKeys(message)).toEqual([]);
      return message;
    });
}

describe('camtrack demo', () => {
  it('runs the built-in scene end to end and scores tracking against the ground truth', () => {
    const r = camtrack(['demo', '--streams', '2', '--frames', '100', '--json', '--quiet']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as {
      streams: number;
      frames: number;
      accuracy: { mota: number; idf1: number; gtBoxes: number };
      streamsDetail: { id: string; frames: number }[];
    };
    expect(summary.streams).toBe(2);
    // Every frame of both 100-frame files reached the tracker (files are processed without drops).
    expect(summary.frames).toBe(200);
    expect(summary.streamsDetail.map((s) => s.frames)).toEqual([100, 100]);
    // The hand-set detector finds every fully visible square; occlusions cost a few misses and id switches.
    expect(summary.accuracy.gtBoxes).toBeGreaterThan(900);
    expect(summary.accuracy.mota).toBeGreaterThan(0.85);
    expect(summary.accuracy.idf1).toBeGreaterThan(0.6);
  });

  it('EXPECTED FAILURE - --source without --model is a usage error with exit code 2', () => {
    const r = camtrack(['demo', '--source', 'x.mp4']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERR_CAMTRACK_INVALID_ARGUMENT] --source needs --model');
  });
});

describe('camtrack command line (issue 8, item 4)', () => {
  // The four examples: each option was silently ignored (or, for doctor, taken as needing a value).
  it.each([
    [['run', '--config', 'c.yaml', '--max-frame', '20'], 'run', "unknown option '--max-frame' (Did you mean --max-frames?)"],
    [['bench', '--frame', '10', '--model', 'missing.onnx'], 'bench', "unknown option '--frame' (Did you mean --frames?)"],
    [['demo', '--model', 'm.onnx', '--sourc', 'bikes.mp4'], 'demo', "unknown option '--sourc' (Did you mean --source?)"],
    [['doctor', '--jsn'], 'doctor', "unknown option '--jsn' (Did you mean --json?)"],
  ])('BAD CALL - %j exits 2 naming the unknown option', (args, cmd, message) => {
    const r = camtrack(args, 60_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`camtrack ${cmd}: [ERR_CAMTRACK_INVALID_ARGUMENT] ${message}`);
    expect(r.stderr).toContain(`hint: camtrack ${cmd} --help lists its options`);
    expect(r.stdout).toBe('');
  });

  it.each([
    [['run', '--config'], "option '--config <file.json|yaml>' argument missing"],
    [['run'], "required option '--config <file.json|yaml>' not specified"],
    [['demo', '--streams', '0'], 'Expected integer between 1 and 64 for --streams but received "0"'],
    [['bench', '--trials', 'ort-raw,fast'], 'Expected one of ort-raw, ort-raw-seq, ort-raw-main, pipeline, pipeline-4x, pipeline-null, push-jpeg, file-mjpeg, push-jpeg-null, file-mjpeg-null for --trials but received "fast"'],
    [['doctor', 'extra'], "too many arguments for 'doctor'. Expected 0 arguments but got 1."],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['run', '--config', 'c.yaml', '--redis', 'http://:s3cret@h:1'], 'Expected redis:// or rediss:// URL for --redis but received "http://***@h:1"'],
  ])('BAD CALL - %j exits 2: %s', (args, message) => {
    const r = camtrack(args, 60_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`[ERR_CAMTRACK_INVALID_ARGUMENT] ${message}`);
  });

  it.each([
    ['demo', ['--streams <n>', '--source <url|file>', '--duration <s>', '--json']],
    ['run', ['--config <file.json|yaml>', '--max-frames <n>', '--duration <s>', '--redis <url>']],
    ['doctor', ['--json']],
    ['worker', ['--redis <url>', '--model <file.onnx>', '--config <file.json|yaml>', '--no-inference', '--cameras <a,b>', '--discover [pattern]', '--max-frame-age <s>']],
    ['publish', ['--redis <url>', '--camera <id>', '--source <file|rtsp>', '--fps <n>', '--duration <s>', '--max-frames <n>', '--json']],
    ['bench', ['--frames <n>', '--trials <list>', '--out <file.json>', 'pipeline-null']],
    ['eval', ['--gt <gt.txt>', '--res <res.txt>', '--min-gt-conf <c>']],
    ['track', ['--det <det.txt>', '--tracker <type>', '--class-aware']],
    ['models', ['info', 'list', 'fetch']],
    ['models info', ['<file.onnx>']],
    ['models fetch', ['<name>', '--out <dir>', '--force', '--base-url <url>']],
    ['config', ['schema']],
    ['config schema', ['--out <file>']],
  ])('camtrack %s --help prints its usage and options, exit code 0', (cmd, options) => {
    const r = camtrack([...cmd.split(' '), '--help'], 60_000);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: camtrack ${cmd} `));
    for (const o of options) expect(r.stdout).toContain(o);
  });

  it('camtrack --help lists every command, exit code 0', () => {
    const r = camtrack(['--help'], 60_000);
    expect(r.status).toBe(0);
    for (const cmd of ['demo', 'run', 'worker', 'publish', 'doctor', 'bench', 'eval', 'track', 'models', 'config']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
  });
});

describe('camtrack config schema', () => {
  it('prints the config file of `camtrack run` as JSON Schema, exit code 0; --out writes the same to a file', () => {
    const r = camtrack(['config', 'schema'], 60_000);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(configJsonSchema());
    const out = path.join(tmp(), 'config.schema.json');
    const w = camtrack(['config', 'schema', '--out', out], 60_000);
    expect(w.status).toBe(0);
    expect(w.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toBe(r.stdout);
  });
});

/** This machine's onnxruntime-node without its downloaded CUDA provider (the usual case: .npmrc skips it). */
const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
const cudaProviderMissing = missingProvider(ort, 'cuda') !== undefined;

describe('camtrack doctor', () => {
  it('reports every component as JSON, each unavailable one with its reason', () => {
    const r = camtrack(['doctor', '--json']);
    expect(r.status).toBe(0);
    const caps = JSON.parse(r.stdout) as Record<string, { available?: boolean; reason?: string; loaded?: boolean }> & {
      ffmpeg: { avcodec: string; hwaccels: string[] };
      onnxruntime: { available: boolean; executionProviders: string[]; providers: ProviderStatus[] };
      autoBackend: { backend: string; reason: string };
    };
    expect(caps.native!.loaded).toBe(true);
    for (const k of ['cuda', 'nvdec', 'tensorrt']) {
      const f = caps[k]!;
      expect(typeof f.available).toBe('boolean');
      if (!f.available) expect(f.reason!.length).toBeGreaterThan(10);
    }
    expect(caps.ffmpeg.avcodec).toMatch(/^\d+\.\d+\.\d+$/);
    expect(caps.onnxruntime.executionProviders).toContain('cpu');
    expect(caps.autoBackend.backend).toBe('onnxruntime');
    // Every provider onnxruntime-node has on linux/x64, started for real: available, or why not and how to get it.
    const providers = new Map(caps.onnxruntime.providers.map((p) => [p.name, p]));
    expect([...providers.keys()]).toEqual(expect.arrayContaining(['cpu', 'cuda', 'tensorrt']));
    expect(providers.get('cpu')).toEqual({ name: 'cpu', available: true });
    for (const p of providers.values()) {
      if (!p.available) expect(p.reason!.length, p.name).toBeGreaterThan(10);
    }
    if (cudaProviderMissing) {
      expect(providers.get('cuda')).toMatchObject({ available: false, reason: expect.stringContaining('libonnxruntime_providers_cuda.so') });
      expect(providers.get('cuda')!.howToGet).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
      expect(providers.get('cuda')!.howToGet).toMatch(/npm approve-scripts onnxruntime-node/);
      expect(providers.get('tensorrt')).toMatchObject({ available: false, reason: expect.stringContaining('libonnxruntime_providers_tensorrt.so') });
    }
  });

  it('prints readable text', () => {
    const r = camtrack(['doctor']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^CUDA\s+(yes|no)/m);
    expect(r.stdout).toMatch(/^FFmpeg\s+yes/m);
    expect(r.stdout).toMatch(/backend 'auto' → onnxruntime/);
    expect(r.stdout).toMatch(/^ {2}provider cpu +yes$/m);
    expect(r.stdout).toMatch(/^ {2}provider cuda +(yes|no .+)$/m);
    expect(r.stdout).toMatch(/^ {2}provider tensorrt +(yes|no .+)$/m);
    if (cudaProviderMissing) expect(r.stdout).toMatch(/^ {2}provider cuda +no .*libonnxruntime_providers_cuda\.so.*\n {4}how to get it: .*ONNXRUNTIME_NODE_INSTALL=cuda12/m);
  });
});

describeWithAssets('camtrack run --config', ['models/yolo11n_int8_320.onnx', 'images/bus.jpg', 'images/dog.jpg'], () => {
  it('runs a YAML config and prints one wire-format JSON line per result, its events as wire lines on stderr', () => {
    const cfg = path.join(tmp(), 'cams.yaml');
    writeFileSync(
      cfg,
      [
        `model: ${assetPath('models/yolo11n_int8_320.onnx')}`,
        'detection:',
        '  scoreThreshold: 0.25',
        'streams:',
        `  - { id: bus, url: ${assetPath('images/bus.jpg')} }`,
        `  - { id: dog, url: ${assetPath('images/dog.jpg')} }`,
        '',
      ].join('\n'),
    );
    const r = camtrack(['run', '--config', cfg], 120_000);
    expect(r.status).toBe(0);
    const lines = wireLines(r.stdout, validateWireResult) as {
      camera_id: string;
      detections: { label: string; score: number }[];
      tracks: { track_id: number }[];
      track_events: { kind: string; track_id: number }[];
    }[];
    expect(lines.map((l) => l.camera_id).sort()).toEqual(['bus', 'dog']);
    const events = wireLines(r.stderr, validateWireEvent) as { type: string; camera_id: string; state?: string }[];
    for (const id of ['bus', 'dog']) expect(events).toContainEqual(expect.objectContaining({ type: 'state', camera_id: id, state: 'ended' }));
    const bus = lines.find((l) => l.camera_id === 'bus')!;
    const dog = lines.find((l) => l.camera_id === 'dog')!;
    // SOURCES.md (yolo11n@320): bus.jpg has a bus and 4 persons (one at 0.359), dog.jpg a dog, a bicycle, a car.
    expect(bus.detections.filter((d) => d.label === 'person').length).toBeGreaterThanOrEqual(3);
    expect(bus.detections.some((d) => d.label === 'bus')).toBe(true);
    // A single frame: every track ByteTrack outputs starts there, so the real track entries are on the wire too.
    expect(bus.tracks.length).toBeGreaterThan(0);
    const byId = (a: { track_id: number }, b: { track_id: number }): number => a.track_id - b.track_id;
    expect(bus.track_events.sort(byId).map((e) => [e.kind, e.track_id])).toEqual(bus.tracks.sort(byId).map((t) => ['new', t.track_id]));
    // (a 'truck' on the car's box may come too: yolov8n's table lists both for that pickup)
    const dogLabels = new Set(dog.detections.map((d) => d.label));
    for (const label of ['dog', 'bicycle', 'car']) expect(dogLabels.has(label), `dog.jpg labels: ${[...dogLabels].join(', ')}`).toBe(true);
    expect([...dogLabels].every((l) => ['dog', 'bicycle', 'car', 'truck'].includes(l))).toBe(true);
  });

  it('EXPECTED FAILURE - a bad field names its path and exits 1', () => {
    const cfg = path.join(tmp(), 'bad.json');
    writeFileSync(cfg, JSON.stringify({ model: assetPath('models/yolo11n_int8_320.onnx'), batching: { maxWaitMs: -1 } }));
    const r = camtrack(['run', '--config', cfg]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ERR_CAMTRACK_INVALID_CONFIG');
    expect(r.stderr).toContain('batching.maxWaitMs: Expected integer between 0 and 10000 but received -1 of type number');
  });
});

describeWithAssets(
  'camtrack run --config with two models (CameraRegistry)',
  ['models/yolo11n_int8_320.onnx', 'models/yolox_nano.onnx', 'images/bus.jpg', 'images/dog.jpg'],
  () => {
    it('runs each camera on its own model and prints wire lines for both cameras', () => {
      const dir = tmp();
      const cfg = path.join(dir, 'two-models.yaml');
      // Model paths relative to the config file, as users write them.
      const rel = (asset: string): string => path.relative(dir, assetPath(asset));
      writeFileSync(
        cfg,
        [
          `model: ${rel('models/yolo11n_int8_320.onnx')}`,
          'models:',
          `  yolox: ${rel('models/yolox_nano.onnx')}`,
          'streams:',
          `  - { id: bus, url: ${assetPath('images/bus.jpg')}, model: yolox }`,
          `  - { id: dog, url: ${assetPath('images/dog.jpg')} }`,
          '',
        ].join('\n'),
      );
      const r = camtrack(['run', '--config', cfg], 120_000);
      expect(r.status, r.stderr).toBe(0);
      const lines = wireLines(r.stdout, validateWireResult) as { camera_id: string; detections: { label: string; score: number }[] }[];
      expect(lines.map((l) => l.camera_id).sort()).toEqual(['bus', 'dog']);
      const events = wireLines(r.stderr, validateWireEvent) as { type: string; camera_id: string; state?: string }[];
      for (const id of ['bus', 'dog']) expect(events).toContainEqual(expect.objectContaining({ type: 'state', camera_id: id, state: 'ended' }));
      // bus.jpg on YOLOX-Nano (its own model): the bus at 0.905 (SOURCES.md); yolo11n@320, the default model, sees it
      // near 0.7.
      const bus = lines.find((l) => l.camera_id === 'bus')!;
      expect(bus.detections.find((d) => d.label === 'bus')!.score).toBeGreaterThan(0.85);
      // dog.jpg on the default model (yolo11n@320), as in the one-model test above.
      const dogLabels = new Set(lines.find((l) => l.camera_id === 'dog')!.detections.map((d) => d.label));
      for (const label of ['dog', 'bicycle', 'car']) expect(dogLabels.has(label), `dog.jpg labels: ${[...dogLabels].join(', ')}`).toBe(true);
    });

    it('EXPECTED FAILURE - a camera naming an unknown model: the path and the known names, exit 1', () => {
      const cfg = path.join(tmp(), 'unknown-model.json');
      writeFileSync(
        cfg,
        JSON.stringify({
          models: { small: assetPath('models/yolo11n_int8_320.onnx'), yolox: assetPath('models/yolox_nano.onnx') },
          streams: [{ id: 'bus', url: assetPath('images/bus.jpg'), model: 'yolov9' }],
        }),
      );
      const r = camtrack(['run', '--config', cfg]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('ERR_CAMTRACK_INVALID_CONFIG');
      expect(r.stderr).toContain('streams[0].model: Expected one of "small", "yolox" (the names in models) but received "yolov9" of type string');
      expect(r.stdout).toBe('');
    });
  },
);

describeWithAssets('camtrack bench', ['models/yolox_nano.onnx', 'videos/walking.mp4'], () => {
  it('runs its trials on the default model and clip and writes a JSON report with same-run ratios', () => {
    const out = path.join(tmp(), 'bench.json');
    const trials = ['ort-raw', 'pipeline', 'pipeline-4x', 'pipeline-null'];
    const r = camtrack(
      ['bench', '--frames', '40', '--warmup', '5', '--streams', '2', '--trials', trials.join(','), '--out', out, '--quiet'],
      240_000,
      { CAMTRACK_ASSETS: assetPath('.') },
    );
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      tool: string;
      commit: string | null;
      machine: { cpus: number; onnxruntime: string | null; loadAverageAfter: number[] };
      trials: Record<string, { median: { fps: number }; runs: { frames: number; fps: number; wallMs: number; latency: { samples: number }; details: Record<string, unknown> }[] }>;
      ratios: Record<string, { ofMedians: number } | null>;
      acceptance: { ratio: number; pass: boolean };
    };
    expect(JSON.parse(r.stdout)).toEqual(report);
    // The common stamp of every bench report (src/bench/report.ts).
    expect(report.tool).toBe('camtrack bench');
    expect(report.commit).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.machine.onnxruntime).toMatch(/^\d+\.\d+/);
    expect(report.machine.loadAverageAfter).toHaveLength(3);
    expect(Object.keys(report.trials).sort()).toEqual([...trials].sort());
    for (const name of ['pipeline', 'pipeline-4x', 'pipeline-null']) {
      const run = report.trials[name]!.runs[0]!;
      // The window holds exactly --frames results, each with its latency, and fps is frames over the window.
      expect(run.frames, name).toBe(40);
      expect(run.latency.samples, name).toBe(40);
      expect(run.wallMs, name).toBeGreaterThan(0);
      expect(run.fps, name).toBeCloseTo((40 / run.wallMs) * 1000, 0);
    }
    const perStream = report.trials['pipeline-4x']!.runs[0]!.details.perStreamFps as Record<string, number>;
    expect(Object.keys(perStream).sort()).toEqual(['s0', 's1']);
    const raw = report.trials['ort-raw']!.median.fps;
    expect(raw).toBeGreaterThan(0);
    expect(report.ratios.pipelineVsRaw!.ofMedians).toBeCloseTo(report.trials['pipeline']!.median.fps / raw, 2);
    expect(report.acceptance.ratio).toBe(report.ratios.pipelineVsRaw!.ofMedians);
    expect(report.acceptance.pass).toBe(report.acceptance.ratio >= 0.9);
  });
});

describe('npm run bench', () => {
  it('runs `camtrack bench` (here its --help)', () => {
    const r = spawnSync('npm', ['run', '--silent', 'bench', '--', '--help'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: camtrack bench [options]');
  });
});

describeWithAssets('camtrack run --config: stopping', ['models/yolo11n_int8_320.onnx', 'videos/walking.mp4'], () => {
  const config = (): string => {
    const cfg = path.join(tmp(), 'two-walks.yaml');
    writeFileSync(
      cfg,
      [
        `model: ${assetPath('models/yolo11n_int8_320.onnx')}`,
        'streams:',
        `  - { id: a, url: ${assetPath('videos/walking.mp4')} }`,
        `  - { id: b, url: ${assetPath('videos/walking.mp4')} }`,
        '',
      ].join('\n'),
    );
    return cfg;
  };

  it('--max-frames 3 with 2 streams prints exactly 3 results (not the ones close() still delivers)', () => {
    const r = camtrack(['run', '--config', config(), '--max-frames', '3'], 120_000);
    expect(r.status).toBe(0);
    const lines = wireLines(r.stdout, validateWireResult) as { camera_id: string; width: number; height: number }[];
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      expect(['a', 'b']).toContain(l.camera_id);
      expect([l.width, l.height]).toEqual([1280, 720]); // walking.mp4 (SOURCES.md)
    }
  });

  it.each([['abc'], ['-1'], ['']])('EXPECTED FAILURE - --duration %j is a usage error with exit code 2', (value) => {
    const r = camtrack(['run', '--config', config(), `--duration=${value}`], 120_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('ERR_CAMTRACK_INVALID_ARGUMENT');
    expect(r.stderr).toContain(`Expected number between 0 and 2147483 for --duration but received ${JSON.stringify(value)}`);
    expect(r.stdout).toBe(''); // rejected before any stream ran
  });

  it('EXPECTED FAILURE - --max-frames 2.5 is a usage error with exit code 2', () => {
    const r = camtrack(['run', '--config', config(), '--max-frames', '2.5'], 120_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Expected integer between 0 and 9007199254740991 for --max-frames but received "2.5"');
  });
});

const rtspUnavailable = rtspServerUnavailableReason();
if (rtspUnavailable !== undefined && !isCi) console.warn(`[camtrack tests] skipping camtrack demo on RTSP: ${rtspUnavailable}`);
const describeRtsp = rtspUnavailable !== undefined && !isCi ? describe.skip : describe;

describeRtsp('camtrack demo on a live RTSP source', () => {
  let server: RtspServer;
  beforeAll(async () => {
    server = await startRtspServer({ mounts: { '/cam': 'live:320x240@25' } });
  });
  afterAll(async () => {
    await server?.stop();
    await killAllTracked();
  });

  describeWithAssets('with yolo11n_int8_320', ['models/yolo11n_int8_320.onnx'], () => {
    const demoArgs = (): string[] => ['demo', '--model', assetPath('models/yolo11n_int8_320.onnx'), '--source', server.url('/cam')];

    it('--duration 3 ends the run (a live stream never ends by itself) and prints the summary', async () => {
      const r = await camtrackAsync([...demoArgs(), '--duration', '3', '--json', '--quiet'], 45_000);
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.status).toBe(0);
      const summary = JSON.parse(r.stdout) as { streams: number; frames: number; seconds: number; streamsDetail: { id: string; frames: number }[] };
      expect(summary.streams).toBe(1);
      expect(summary.frames).toBeGreaterThan(0);
      expect(summary.streamsDetail).toEqual([expect.objectContaining({ id: 'cam1', frames: summary.frames })]);
      expect(summary.seconds).toBeGreaterThanOrEqual(3);
    });

    it('Ctrl-C (SIGINT) ends the run and prints the summary, exit code 0', async () => {
      let sent = false;
      // The first progress line shows the stream running; then interrupt it like a user would.
      const r = await camtrackAsync(demoArgs(), 45_000, (out, signal) => {
        if (!sent && /^\[\d+\.\ds\] cam1 /m.test(out)) {
          sent = true;
          signal('SIGINT');
        }
      });
      expect(sent).toBe(true);
      expect(r.signal).toBeNull();
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/camtrack demo: \d+ frames from 1 streams in/);
    });
  });
});
