#!/usr/bin/env node
// `node bench/jpeg.mjs [--repeat 7] [--min-sample-ms 60] [--quality 3] [--out f.json]`: JPEG decode at the DCT scale
// JpegDecoder picks for a model against a full-size decode (issue 10, "decode at scale"), for 720p, 1080p and 4K JPEGs
// into a 416 and a 640 model, in the same run. The driver of the one harness (issue 15): the executable
// camtrack_bench_jpeg_bench (bench/native/jpeg_bench.cpp) measures one JPEG into one model size and prints the
// per-round samples of its six trials; this script makes the inputs, runs it per (input, model), and computes the
// medians and the round-paired ratios with src/bench/report.ts (dist/bench/report.js), which stamps the report.
//
// Inputs, made with the ffmpeg CLI (FFMPEG_PATH or ffmpeg on PATH) into a temporary directory, encoded by FFmpeg's
// mjpeg encoder (yuvj420p, -q:v --quality): 720p = frame 30 of walking.mp4 (1280×720), 1080p = frame 4 of
// mmtracking-demo.mp4 (1920×1080), 4K = that 1080p frame scaled up to 3840×2160 (bicubic) before encoding. The clips
// are read from $CAMTRACK_ASSETS, else the first <ancestor>/shared/assets.
// Report (stdout, and --out; default bench/results/jpeg-<time>.json): per (input, model) the scale, the decoded size,
// `<trial>Ms { median, min }` and the medians of the per-round ratios speedupDecode (full / scaled),
// speedupWithLetterbox (full_lb / scaled_lb), rgbOverYuvWithLetterbox (scaled_rgb_lb / scaled_lb),
// speedupOverFullRgbWithLetterbox (full_rgb_lb / scaled_lb). Exit 0, 1 when an input cannot be made or measured,
// 2 on bad options or without the executable.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { median, pairedRatioMedian, resultsPath, round, startReport, writeReport } = await import('../dist/bench/report.js');

let values;
try {
  ({ values } = parseArgs({
    options: {
      repeat: { type: 'string', default: '7' },
      'min-sample-ms': { type: 'string', default: '60' },
      quality: { type: 'string', default: '3' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  process.stderr.write(`bench/jpeg.mjs: ${e.message}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write('usage: node bench/jpeg.mjs [--repeat 7] [--min-sample-ms 60] [--quality 3 (ffmpeg -q:v)] [--out FILE]\n');
  process.exit(0);
}
const repeat = Number(values.repeat);
const minSampleMs = Number(values['min-sample-ms']);
const quality = Number(values.quality);
if (!(Number.isInteger(repeat) && repeat >= 1) || !(minSampleMs > 0) || !(Number.isInteger(quality) && quality >= 1)) {
  process.stderr.write('bench/jpeg.mjs: --repeat and --quality must be positive integers, --min-sample-ms positive\n');
  process.exit(2);
}

function assetsDir() {
  if (process.env.CAMTRACK_ASSETS) return process.env.CAMTRACK_ASSETS;
  for (let dir = root, i = 0; i < 12; i++, dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'shared', 'assets', 'SOURCES.md'))) return path.join(dir, 'shared', 'assets');
  }
  return null;
}
const exeName = 'camtrack_bench_jpeg_bench';
const exe = [process.env.CAMTRACK_JPEG_BENCH, path.join(root, 'build', exeName), path.join(root, 'build', 'Release', exeName)].filter(Boolean).find((p) => existsSync(p));
if (!exe) {
  process.stderr.write(`${exeName} not found; build it with \`CMAKE_BUILD_PARALLEL_LEVEL=2 npm run build:dev\`\n`);
  process.exit(2);
}
const assets = assetsDir();
if (!assets) {
  process.stderr.write('shared assets not found: set CAMTRACK_ASSETS to the shared/assets directory\n');
  process.exit(1);
}
const ffmpeg = process.env.FFMPEG_PATH || 'ffmpeg';

const TRIALS = ['full', 'scaled', 'full_lb', 'scaled_lb', 'scaled_rgb_lb', 'full_rgb_lb'];
const INPUTS = [
  { name: '720p', clip: 'videos/walking.mp4', frame: 30, vf: '' },
  { name: '1080p', clip: 'videos/mmtracking-demo.mp4', frame: 4, vf: '' },
  { name: '4K', clip: 'videos/mmtracking-demo.mp4', frame: 4, vf: ',scale=3840:2160:flags=bicubic' },
];

const start = startReport();
const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-jpeg-bench-'));
const inputs = [];
const results = [];
let libav = null; // the FFmpeg version the executable was built with
try {
  for (const input of INPUTS) {
    const file = path.join(dir, `${input.name}.jpg`);
    const args = ['-nostdin', '-v', 'error', '-y', '-i', path.join(assets, input.clip), '-vf', `select=eq(n\\,${input.frame})${input.vf}`, '-frames:v', '1', '-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', String(quality), file];
    const r = spawnSync('timeout', ['-k', '2', '120', ffmpeg, ...args], { encoding: 'utf8' });
    if (r.status !== 0 || !existsSync(file)) throw new Error(`cannot make the ${input.name} input: ${ffmpeg} ${args.join(' ')}: ${(r.stderr ?? '').trim()}`);
    let width = 0;
    let height = 0;
    for (const model of [416, 640]) {
      const m = spawnSync(exe, ['--jpeg', file, '--model', String(model), '--repeat', String(repeat), '--min-sample-ms', String(minSampleMs)], { encoding: 'utf8' });
      if (m.status !== 0) throw new Error(`${exeName} on ${input.name} into ${model}: exit ${m.status ?? m.signal}: ${(m.stderr ?? '').trim()}`);
      const x = JSON.parse(m.stdout);
      ({ width, height } = x);
      const s = x.samplesMs;
      const row = { input: input.name, model, scale: x.scale, decoded: x.decoded };
      for (const t of TRIALS) row[`${t}Ms`] = { median: round(median(s[t]), 3), min: round(Math.min(...s[t]), 3) };
      row.speedupDecode = round(pairedRatioMedian(s.full, s.scaled), 2);
      row.speedupWithLetterbox = round(pairedRatioMedian(s.full_lb, s.scaled_lb), 2);
      row.rgbOverYuvWithLetterbox = round(pairedRatioMedian(s.scaled_rgb_lb, s.scaled_lb), 2);
      row.speedupOverFullRgbWithLetterbox = round(pairedRatioMedian(s.full_rgb_lb, s.scaled_lb), 2);
      results.push(row);
      process.stderr.write(
        `${input.name.padEnd(5)} into ${model}: ${x.scale} -> ${x.decoded}  full ${row.fullMs.median.toFixed(2)} ms  scaled ${row.scaledMs.median.toFixed(2)} ms  ` +
          `(x${row.speedupDecode.toFixed(2)})  with letterbox ${row.full_lbMs.median.toFixed(2)} -> ${row.scaled_lbMs.median.toFixed(2)} ms (x${row.speedupWithLetterbox.toFixed(2)})\n`,
      );
      libav ??= x.ffmpeg;
    }
    inputs.push({ name: input.name, width, height, bytes: statSync(file).size });
  }
} catch (e) {
  process.stderr.write(`bench/jpeg.mjs: ${e.message}\n`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}
rmSync(dir, { recursive: true, force: true });
const libjpegTurbo = spawnSync('pkg-config', ['--modversion', 'libturbojpeg'], { encoding: 'utf8' }).stdout?.trim() || null;
const { path: written } = writeReport(
  'bench/jpeg.mjs',
  {
    bench: 'jpeg',
    machine: { libjpegTurbo, ffmpeg: libav },
    executable: exe,
    options: { repeat, minSampleMs, quality },
    inputs,
    results,
  },
  { out: values.out ?? resultsPath('jpeg', start.startedAt), start },
);
process.stderr.write(`report: ${written}\n`);
