#!/usr/bin/env node
// `node bench/decode.mjs [options]`: the decode-only benchmark (issue 3) — camtrack's VideoSource (or its NVDEC
// source) against the ffmpeg CLI decoding the same clips to a null sink, for 1, 8 and 32 concurrent streams, in the
// same run. bench/README.md "Decode only" documents every option and field; `--help` lists them.
//
// The driver of the one harness (issue 15): the executable camtrack_bench_decode_bench
// (bench/native/decode_bench.cpp) only measures ONE configuration per call and prints JSON (our side: `ours`,
// `lavc-raw`; `--probe` describes a clip); this script makes the HEVC copy (ffmpeg -c:v libx265), runs the ffmpeg
// baseline processes itself, alternates the trials round by round, and computes the steady windows, medians, ratios
// and the acceptance, with the statistics and the report stamp of src/bench/report.ts (dist/bench/report.js: run
// `npm run build:dev` or `npx tsc -p tsconfig.build.json` first).
//
// The baseline's CPU time: each ffmpeg runs under `/bin/sh -c '"$@"; s=$?; times; exit $s'`; the shell's `times`
// prints the user and system CPU time of its waited-for children (the kernel's rusage of the ffmpeg process, all its
// threads, from exec to exit, start-up included: what wait4 gave when the C++ bench spawned ffmpeg). Not ffmpeg's
// own `-benchmark`: its utime/stime start after option parsing and input opening, and print only at -v info.
// The executable: $CAMTRACK_DECODE_BENCH, else build/ and build/Release/ (npm run build:dev builds it).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { median, ratio, resultsPath, round, startReport, steadyWindow, writeReport } = await import('../dist/bench/report.js');

const TOOL = 'bench/decode.mjs';
const TRIALS = ['ours', 'ffmpeg', 'ffmpeg-auto', 'lavc-raw'];
const EXIT_NO_NVDEC = 77;
const SAMPLE_PERIOD_MS = 50; // the executable's sampling period too
const MIN_STEADY_WINDOW_S = 0.5;

const HELP = `node bench/decode.mjs: decode-only throughput, camtrack VideoSource vs ffmpeg -f null, same run.
  --clip FILE            clip to decode (repeatable); default walking.mp4 of the shared assets
  --no-hevc              do not add an HEVC (libx265) copy of the first clip
  --keep-tmp             keep the temp directory with the HEVC copy (its path is in the report)
  --streams 1,8,32       concurrent streams per run
  --trials ours,ffmpeg   trials, in this order within a round; also ffmpeg-auto, lavc-raw
  --repeat 3             rounds (runs alternate trial by trial)
  --min-total-frames 2700  frames per run (all streams): each stream decodes
                         max(1, ceil(this / (streams * clip frames))) passes over the clip
  --min-stream-frames M  and at least M frames per stream (default 0): with many streams the decoders start
                         one after another, and a stream must outlast the others' start for a steady window
  --passes K             fixed passes over the clip per stream (overrides --min-total-frames)
  --decoder cpu          cpu (libavcodec) or gpu (NVDEC on --device: ours through the pipeline's GPU source,
                         ffmpeg with -hwaccel cuda -hwaccel_output_format cuda; exit 77 without NVDEC)
  --decoder-threads 1    libavcodec threads per stream, ours and ffmpeg's -threads alike (gpu: ffmpeg only)
  --device 0             CUDA device of --decoder gpu (ours, and ffmpeg's -hwaccel_device)
  --ffmpeg PATH          ffmpeg executable (default: ffmpeg on PATH)
  --out FILE             JSON report file (default bench/results/decode-<time>.json)
  --quiet                no progress lines on stderr
`;

function bad(msg) {
  process.stderr.write(`decode_bench: ${msg} (see --help)\n`);
  process.exit(2);
}

function positive(name, v) {
  if (!/^\d+$/.test(v) || Number(v) <= 0 || Number(v) > 100000) bad(`expected a positive integer for ${name} but received '${v}'`);
  return Number(v);
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        clip: { type: 'string', multiple: true },
        'no-hevc': { type: 'boolean' },
        'keep-tmp': { type: 'boolean' },
        streams: { type: 'string', default: '1,8,32' },
        trials: { type: 'string', default: 'ours,ffmpeg' },
        repeat: { type: 'string', default: '3' },
        'min-total-frames': { type: 'string', default: '2700' },
        'min-stream-frames': { type: 'string' },
        passes: { type: 'string' },
        decoder: { type: 'string', default: 'cpu' },
        'decoder-threads': { type: 'string', default: '1' },
        device: { type: 'string', default: '0' },
        ffmpeg: { type: 'string', default: 'ffmpeg' },
        out: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    bad(e.message);
  }
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const list = (s) => s.split(',').filter(Boolean);
  const streams = list(values.streams).map((s) => positive('--streams', s));
  if (streams.length === 0) bad('--streams is empty');
  const trials = list(values.trials);
  for (const t of trials) if (!TRIALS.includes(t)) bad(`unknown trial '${t}' (${TRIALS.join(', ')})`);
  if (trials.length === 0) bad('--trials is empty');
  if (!['cpu', 'gpu'].includes(values.decoder)) bad(`expected cpu or gpu for --decoder but received '${values.decoder}'`);
  if (!/^\d+$/.test(values.device) || Number(values.device) > 255) bad(`expected a CUDA device 0..255 for --device but received '${values.device}'`);
  if (values.decoder === 'gpu' && trials.includes('lavc-raw')) bad('trial lavc-raw is the libavcodec (CPU) loop and does not apply to --decoder gpu');
  const clips = values.clip ?? [defaultClip()];
  for (const c of clips) if (!isFile(c)) bad(`clip not found: ${c}`);
  return {
    clips: clips.map((c) => path.resolve(c)),
    hevc: !values['no-hevc'],
    keepTmp: Boolean(values['keep-tmp']),
    streams,
    trials,
    repeat: positive('--repeat', values.repeat),
    minTotalFrames: positive('--min-total-frames', values['min-total-frames']),
    minStreamFrames: values['min-stream-frames'] ? positive('--min-stream-frames', values['min-stream-frames']) : 0,
    passes: values.passes ? positive('--passes', values.passes) : 0,
    decoder: values.decoder,
    decoderThreads: positive('--decoder-threads', values['decoder-threads']),
    device: Number(values.device),
    ffmpeg: values.ffmpeg,
    out: values.out,
    quiet: Boolean(values.quiet),
  };
}

function isFile(p) {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function defaultClip() {
  const candidates = [
    process.env.CAMTRACK_ASSETS && path.join(process.env.CAMTRACK_ASSETS, 'videos', 'walking.mp4'),
    path.join(root, '..', 'shared', 'assets', 'videos', 'walking.mp4'),
    '/work/shared/assets/videos/walking.mp4',
  ].filter(Boolean);
  const found = candidates.find(isFile);
  if (!found) bad('walking.mp4 not found under $CAMTRACK_ASSETS, ../shared/assets or /work/shared/assets; pass --clip');
  return found;
}

function findExecutable() {
  const candidates = [
    process.env.CAMTRACK_DECODE_BENCH,
    path.join(root, 'build', 'camtrack_bench_decode_bench'),
    path.join(root, 'build', 'Release', 'camtrack_bench_decode_bench'),
  ].filter(Boolean);
  const exe = candidates.find((p) => existsSync(p));
  if (!exe) {
    process.stderr.write(
      `camtrack_bench_decode_bench not found (tried: ${candidates.join(', ')}).\n` +
        'Build it with `CMAKE_BUILD_PARALLEL_LEVEL=2 npm run build:dev` (benchmarks are opt-in: `npm install` builds the addon only), ' +
        'or point CAMTRACK_DECODE_BENCH at it.\n',
    );
    process.exit(2);
  }
  return exe;
}

const opt = parseOptions();
const exe = findExecutable();
const gpu = opt.decoder === 'gpu';
const log = (line) => {
  if (!opt.quiet) process.stderr.write(`${line}\n`);
};

/** Runs the executable with `args`; its JSON, or throws with its stderr. Exit 77 (no NVDEC) ends this script with 77. */
function measure(args) {
  const common = ['--decoder', opt.decoder, '--decoder-threads', String(opt.decoderThreads), '--device', String(opt.device)];
  const r = spawnSync(exe, [...args, ...common], { encoding: 'utf8', maxBuffer: 256 << 20, cwd: root });
  if (r.status === EXIT_NO_NVDEC) {
    process.stderr.write(r.stderr);
    process.exit(EXIT_NO_NVDEC);
  }
  if (r.error || r.status !== 0) throw new Error(`${path.basename(exe)} ${args.join(' ')}: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout);
}

// ---- the baseline: N ffmpeg processes ----------------------------------------------------------------------------

/**
 * The ffmpeg command of one baseline stream (without the `sh … times` wrapper). `passes` = how many times the clip is
 * decoded (-stream_loop passes-1). threads <= 0: no -threads (ffmpeg's default, auto). gpu: NVDEC through
 * -hwaccel cuda, frames stay in device memory (the fair counterpart of a GPU source that does no host copy).
 * -progress pipe:1 writes a `frame=` block every 50 ms on stdout, read while it runs.
 */
function baselineArgs(clip, passes, threads, maxFrames) {
  const a = [opt.ffmpeg, '-hide_banner', '-nostdin', '-v', 'error', '-nostats'];
  if (threads > 0) a.push('-threads', String(threads));
  if (gpu) a.push('-hwaccel', 'cuda', '-hwaccel_device', String(opt.device), '-hwaccel_output_format', 'cuda');
  if (passes > 1) a.push('-stream_loop', String(passes - 1));
  a.push('-i', clip, '-map', '0:v:0', '-an', '-sn', '-dn');
  if (maxFrames > 0) a.push('-frames:v', String(maxFrames));
  a.push('-f', 'null', '-', '-progress', 'pipe:1', '-stats_period', String(SAMPLE_PERIOD_MS / 1000));
  return a;
}

/** The 'ffmpeg' trial's command as baselineArgs builds it, with placeholders for what differs per run. */
function baselineCommandTemplate() {
  const a = baselineArgs('<clip>', 2, opt.decoderThreads, 0);
  const i = a.indexOf('-stream_loop');
  // --decoder gpu: no -stream_loop; <clip> is the clip's packets K times, made by stream copy (loopedCopy).
  a.splice(i, 2, gpu ? '[<clip> = the clip K times by stream copy]' : '[-stream_loop K-1]');
  return a.join(' ');
}

const WRAPPER = ['/bin/sh', '-c', '"$@"; s=$?; times; exit $s', 'sh'];
const TIMES_LINE = /^(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s$/;

/**
 * One run of an ffmpeg trial: `streams` processes at once; every 50 ms the frames each has reported so far. Resolves
 * with the run in the executable's shape (wallS, cpuS, perStream, samples) so both sides are summarised alike.
 */
function runFfmpegProcesses(clip, streams, passes, threads, maxFrames = 0) {
  return new Promise((resolve) => {
    const counts = new Array(streams).fill(0);
    const perStream = Array.from({ length: streams }, () => ({ frames: 0, seconds: 0 }));
    const running = new Array(streams).fill(true);
    const cpu = new Array(streams).fill(0);
    const samples = [];
    let left = streams;
    const t0 = performance.now();
    const since = () => (performance.now() - t0) / 1000;
    const timer = setInterval(() => samples.push([since(), running.every(Boolean) ? 1 : 0, ...counts]), SAMPLE_PERIOD_MS);
    for (let i = 0; i < streams; i++) {
      const child = spawn(WRAPPER[0], [...WRAPPER.slice(1), ...baselineArgs(clip, passes, threads, maxFrames)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      let timesLines = [];
      child.stdout.setEncoding('utf8').on('data', (d) => {
        out += d;
        let nl;
        while ((nl = out.indexOf('\n')) >= 0) {
          const line = out.slice(0, nl).trim();
          out = out.slice(nl + 1);
          if (line.startsWith('frame=')) counts[i] = Number(line.slice(6)) || 0;
          else if (TIMES_LINE.test(line)) timesLines.push(line);
        }
      });
      child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
      child.on('error', (e) => (err += e.message));
      child.on('exit', () => (perStream[i].seconds = since()));
      child.on('close', (code, signal) => {
        running[i] = false;
        // `times`: line 1 the shell itself, line 2 its children (this ffmpeg).
        const m = TIMES_LINE.exec(timesLines[1] ?? '');
        if (m) cpu[i] = Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
        perStream[i].frames = counts[i];
        if (code !== 0) perStream[i].error = `ffmpeg failed (${signal ?? `exit ${code}`}): ${err.trim()}`;
        else if (counts[i] <= 0) perStream[i].error = "no frame= line in ffmpeg's -progress output";
        if (--left === 0) {
          clearInterval(timer);
          const wallS = since();
          const error = perStream.find((s) => s.error)?.error;
          resolve({
            streams,
            frames: counts.reduce((a, b) => a + b, 0),
            wallS,
            cpuS: cpu.reduce((a, b) => a + b, 0),
            perStream,
            samples,
            ...(error ? { error } : {}),
          });
        }
      });
    }
  });
}

/**
 * --decoder gpu: FFmpeg 5.1 cannot loop an input whose frames stay on the GPU (at the first -stream_loop point the
 * filter graph is rebuilt and fails: "Impossible to convert between the formats supported by the filter
 * 'Parsed_null_0' and the filter 'auto_scale_0'"; with -reinit_filter 0: "Failed to inject frame into filter
 * network"; H200, 2026-12-04). So the GPU baseline reads the same packets `passes` times from one file: the clip
 * stream-copied once into raw Annex-B (`-c copy -bsf:v <codec>_mp4toannexb -f <codec>`), written `passes` times
 * back to back (Annex-B streams concatenate). Once per clip and pass count.
 */
const loopedCopies = new Map();
function loopedCopy(clip, codec, passes, tmpDir) {
  const key = `${clip}\n${passes}`;
  if (loopedCopies.has(key)) return loopedCopies.get(key);
  if (codec !== 'h264' && codec !== 'hevc') throw new Error(`no looped copy for codec ${codec} (h264/hevc only)`);
  const once = path.join(tmpDir, `once-${loopedCopies.size}.${codec}`);
  const dst = path.join(tmpDir, `looped-${loopedCopies.size}.${codec}`);
  const r = spawnSync(opt.ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-i', clip, '-map', '0:v:0', '-c', 'copy', '-bsf:v', `${codec}_mp4toannexb`, '-f', codec, once], { encoding: 'utf8' });
  if (r.status !== 0 || !isFile(once)) throw new Error(`stream copy of the clip into Annex-B failed: ${(r.stderr ?? r.error?.message ?? '').trim()}`);
  const bytes = readFileSync(once);
  rmSync(once);
  writeFileSync(dst, Buffer.concat(new Array(passes).fill(bytes)));
  loopedCopies.set(key, dst);
  return dst;
}

async function runFfmpeg(trial, clip, streams, passes, tmpDir) {
  try {
    const input = gpu && passes > 1 ? loopedCopy(clip.path, clip.codec, passes, tmpDir) : clip.path;
    return { trial, ...(await runFfmpegProcesses(input, streams, gpu ? 1 : passes, trial === 'ffmpeg-auto' ? 0 : opt.decoderThreads)) };
  } catch (e) {
    return { trial, streams, frames: 0, wallS: 0, cpuS: 0, perStream: [], samples: [], error: e.message };
  }
}

// ---- one run's figures -------------------------------------------------------------------------------------------

/** A run as the report gives it (bench/README.md), from the raw measurement of either side. */
function summariseRun(raw) {
  const steady = steadyWindow(
    raw.samples.map(([t, all, ...counts]) => ({ t, allRunning: all === 1, counts })),
    MIN_STEADY_WINDOW_S,
  );
  const perStreamFps = raw.perStream.map((s) => round(s.seconds > 0 ? s.frames / s.seconds : 0, 2));
  return {
    fps: round(raw.wallS > 0 ? raw.frames / raw.wallS : 0, 2),
    steadyFps: steady ? round(steady.fps, 2) : null,
    steadyWindowMs: round(steady ? steady.windowS * 1000 : 0, 1),
    frames: raw.frames,
    wallMs: round(raw.wallS * 1000, 1),
    cpuPercent: round(raw.wallS > 0 ? (100 * raw.cpuS) / raw.wallS : 0, 1),
    fpsPerCore: round(raw.cpuS > 0 ? raw.frames / raw.cpuS : 0, 2),
    perStreamFps,
    perStreamFpsMin: perStreamFps.length ? Math.min(...perStreamFps) : 0,
    perStreamFpsMax: perStreamFps.length ? Math.max(...perStreamFps) : 0,
    ...(raw.nvdec ? { nvdec: raw.nvdec } : {}),
    ...(raw.error ? { error: raw.error } : {}),
  };
}

// ---- main ----------------------------------------------------------------------------------------------------------

const start = startReport();
const check = measure(['--check']); // --decoder gpu without NVDEC: exit 77 here, before anything else
const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-decode-bench-'));
let exitCode = 0;
let hevcNote = null;
let hevcPath = null;

function makeHevc(src) {
  const dst = path.join(tmpDir, 'hevc.mp4');
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-i', src, '-map', '0:v:0', '-an', '-c:v', 'libx265', '-preset', 'veryfast', '-x265-params', 'log-level=error', '-pix_fmt', 'yuv420p', '-tag:v', 'hvc1', dst];
  const t0 = performance.now();
  const r = spawnSync(opt.ffmpeg, args, { encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0 || !isFile(dst)) return { error: `libx265 transcode failed: ${(r.stderr ?? r.error?.message ?? '').trim()}` };
  return { path: dst, seconds };
}

async function probeClip(p) {
  const c = measure(['--probe', '--clip', p]);
  // ffmpeg's start-up: the process start → exit for 1 frame (exec, ~215 shared libraries, open, probe), median of 3.
  const startup = [];
  for (let i = 0; i < 3; i++) {
    const r = await runFfmpegProcesses(p, 1, 1, opt.decoderThreads, 1);
    if (r.error) throw new Error(`ffmpeg does not run: ${r.error}`);
    startup.push(r.wallS * 1000);
  }
  const one = await runFfmpegProcesses(p, 1, 1, opt.decoderThreads);
  return { ...c, ffmpegFramesPerPass: one.frames, ffmpegStartupMs: median(startup) };
}

const clips = [];
try {
  for (const p of opt.clips) clips.push(await probeClip(p));
  if (opt.hevc && !clips.some((c) => c.codec === 'hevc')) {
    log(`making the HEVC copy of ${clips[0].path} with libx265 …`);
    const h = makeHevc(clips[0].path);
    if (h.error) {
      log(`decode_bench: ${h.error} (HEVC skipped)`);
      hevcNote = { error: h.error };
      exitCode = 1;
    } else {
      hevcPath = h.path;
      clips.push(await probeClip(h.path));
      hevcNote = {
        from: clips[0].path,
        path: h.path,
        command: 'ffmpeg -i <clip> -map 0:v:0 -an -c:v libx265 -preset veryfast -pix_fmt yuv420p -tag:v hvc1 hevc.mp4',
        encodeSeconds: round(h.seconds, 1),
        ...(opt.keepTmp ? {} : { deleted: true }),
      };
    }
  }
} catch (e) {
  process.stderr.write(`decode_bench: ${e.message}\n`);
  rmSync(tmpDir, { recursive: true, force: true });
  process.exit(1);
}
const seen = new Map();
for (const c of clips) {
  const k = seen.get(c.codec) ?? 0;
  seen.set(c.codec, k + 1);
  c.name = k ? `${c.codec}-${k + 1}` : c.codec;
  log(
    `clip ${c.name}: ${c.path} (${c.width}x${c.height}, ${c.framesPerPass} frames; ffmpeg counts ${c.ffmpegFramesPerPass}` +
      (gpu ? `, our NVDEC path ${c.nvdecFramesPerPass}` : '') +
      `; startup ours ${c.startupMs.toFixed(1)} ms, ffmpeg ${c.ffmpegStartupMs.toFixed(1)} ms)`,
  );
}

// Measurements: per clip, per stream count, `repeat` rounds of the trials in order.
const results = [];
let minRatio = Infinity;
for (const c of clips) {
  for (const n of opt.streams) {
    const passes =
      opt.passes > 0
        ? opt.passes
        : Math.max(1, Math.ceil(opt.minTotalFrames / (n * c.framesPerPass)), Math.ceil(opt.minStreamFrames / c.framesPerPass));
    const framesPerStream = passes * c.framesPerPass;
    const runs = Object.fromEntries(opt.trials.map((t) => [t, []]));
    for (let round_ = 0; round_ < opt.repeat; round_++) {
      for (const t of opt.trials) {
        let raw;
        if (t === 'ours' || t === 'lavc-raw') {
          try {
            raw = measure(['--trial', t, '--clip', c.path, '--streams', String(n), '--frames-per-stream', String(framesPerStream)]);
          } catch (e) {
            raw = { trial: t, streams: n, frames: 0, wallS: 0, cpuS: 0, perStream: [], samples: [], error: e.message };
          }
        } else {
          raw = await runFfmpeg(t, c, n, passes, tmpDir);
        }
        const run = summariseRun(raw);
        log(
          `[${c.name} N=${n} round ${round_ + 1}/${opt.repeat}] ${t.padEnd(11)} steady ${String(run.steadyFps?.toFixed(1) ?? 'n/a').padStart(7)} fps  ` +
            `wall ${run.fps.toFixed(1).padStart(7)} fps  ${(run.wallMs / 1000).toFixed(1).padStart(5)} s  cpu ${run.cpuPercent.toFixed(1).padStart(5)} %` +
            (run.error ? `  ERROR: ${run.error.slice(0, 120)}` : ''),
        );
        if (run.error) exitCode = 1;
        runs[t].push(run);
      }
    }
    const trials = {};
    const metric = (t, f) => (runs[t] ?? []).map((r) => f(r) ?? Number.NaN);
    const steady = (t) => metric(t, (r) => r.steadyFps);
    const medianOrNull = (xs) => {
      const m = median(xs.filter(Number.isFinite));
      return Number.isFinite(m) ? m : null;
    };
    for (const t of opt.trials) {
      const s = medianOrNull(steady(t));
      trials[t] = {
        median: {
          steadyFps: s === null ? null : round(s, 2),
          steadyPerStreamFps: s === null ? null : round(s / n, 2),
          fps: medianOrNull(metric(t, (r) => r.fps)),
          cpuPercent: round(median(metric(t, (r) => r.cpuPercent)), 1),
          fpsPerCore: medianOrNull(metric(t, (r) => (r.fpsPerCore > 0 ? r.fpsPerCore : Number.NaN))),
        },
        runs: runs[t],
      };
    }
    const ratios = {};
    const addRatio = (name, a, b, f) => {
      if (!runs[a] || !runs[b]) return null;
      ratios[name] = ratio(metric(a, f), metric(b, f), 4);
      return ratios[name];
    };
    const main = addRatio('oursVsFfmpeg', 'ours', 'ffmpeg', (r) => r.steadyFps);
    const wall = addRatio('oursVsFfmpegWall', 'ours', 'ffmpeg', (r) => r.fps);
    addRatio('oursVsFfmpegPerCpu', 'ours', 'ffmpeg', (r) => (r.fpsPerCore > 0 ? r.fpsPerCore : Number.NaN));
    addRatio('oursVsFfmpegAuto', 'ours', 'ffmpeg-auto', (r) => r.steadyFps);
    addRatio('oursVsLavcRaw', 'ours', 'lavc-raw', (r) => r.steadyFps);
    addRatio('lavcRawVsFfmpeg', 'lavc-raw', 'ffmpeg', (r) => r.steadyFps);
    results.push({ clip: c.name, streams: n, passesPerStream: passes, framesPerStream, trials, ratios });
    if (main && Number.isFinite(main.ofMedians)) {
      minRatio = Math.min(minRatio, main.ofMedians);
      log(`  => ${c.name} N=${n}: ours/ffmpeg steady = ${main.ofMedians.toFixed(3)} (paired ${main.pairedMedian.toFixed(3)}), wall = ${wall.ofMedians.toFixed(3)}`);
    }
  }
}

const hasRatio = Number.isFinite(minRatio);
const ffmpegCli = spawnSync(opt.ffmpeg, ['-version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '';
const body = {
  machine: { libavcodec: check.libavcodec, ffmpegCli },
  executable: exe,
  decoder: opt.decoder,
  device: gpu && clips.length ? clips[0].device : null,
  options: {
    streams: opt.streams,
    trials: opt.trials,
    repeat: opt.repeat,
    minTotalFrames: opt.minTotalFrames,
    minStreamFrames: opt.minStreamFrames,
    passes: opt.passes > 0 ? opt.passes : null,
    decoderThreads: opt.decoderThreads,
    cudaDevice: opt.device,
    ffmpeg: opt.ffmpeg,
    ffmpegCommand: baselineCommandTemplate(),
    ffmpegCpuTime: `${WRAPPER.slice(0, 2).join(' ')} '${WRAPPER[2]}' sh <ffmpeg command>: the shell's times (user + sys of the waited-for ffmpeg)`,
  },
  hevc: hevcNote,
  clips: clips.map((c) => ({
    name: c.name,
    path: c.path,
    codec: c.codec,
    width: c.width,
    height: c.height,
    fps: round(c.fps, 2),
    framesPerPass: c.framesPerPass,
    ffmpegFramesPerPass: c.ffmpegFramesPerPass,
    nvdecFramesPerPass: gpu ? c.nvdecFramesPerPass : null,
    startupMs: { ours: round(c.startupMs, 1), ffmpeg: round(c.ffmpegStartupMs, 1) },
  })),
  results,
  // Issue 3 sets 0.95 for the CPU path only; for NVDEC the ratio is reported without a target.
  acceptance: {
    check: 'ours steadyFps / ffmpeg steadyFps (ratio of medians) for every clip and stream count',
    target: gpu ? null : 0.95,
    ...(gpu ? { note: 'no target set by issue 3 for NVDEC; ratio reported' } : {}),
    minRatio: hasRatio ? minRatio : null,
    pass: gpu || !hasRatio ? null : minRatio >= 0.95,
  },
};
const { path: written } = writeReport(TOOL, body, { out: opt.out ?? resultsPath('decode', start.startedAt), start });
log(`report: ${written}`);
if (!opt.keepTmp) rmSync(tmpDir, { recursive: true, force: true });
process.exitCode = exitCode;
