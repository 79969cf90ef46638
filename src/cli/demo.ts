/**
 * `camtrack demo`: the real pipeline, end to end, on inputs whose ground truth is known.
 *
 * With no arguments it generates (once, cached) a synthetic scene per stream — coloured squares moving, bouncing
 * and occluding each other over a textured background — encodes it with ffmpeg (FFmpeg's own LGPL mpeg4 encoder:
 * the bundled ffmpeg of the prebuilt package, or the system's), builds a small ONNX detector with hand-set weights
 * for those squares (see src/demo/scene-model.ts), then runs every stream at once
 * through decode → letterbox → onnxruntime → NMS → ByteTrack, shows per-stream fps and tracks while it runs, and
 * ends with MOT metrics of the tracks against the generator's ground truth. Nothing is canned.
 * With --model/--source it runs on real inputs (and scores them when --gt files are given); a live source runs
 * until Ctrl-C (SIGINT/SIGTERM) or --duration seconds, then the summary prints. Only what the summary needs is kept
 * per stream (counts, track ids; MOT rows only for streams scored against --gt), so a long run stays small.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { ensureDemoAssets } from '../demo/scene-model.js';
import { consideredGtRows, evaluateMot } from '../eval/mot-metrics.js';
import { parseMotFile, type MotRow } from '../eval/mot-format.js';
import { Pipeline } from '../pipeline.js';
import type { FrameResult } from '../types.js';
import { UsageError } from './args.js';

export function cacheDir(): string {
  if (process.env.CAMTRACK_CACHE_DIR) return process.env.CAMTRACK_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'camtrack');
}

/** What the summary needs of one stream, accumulated result by result (never the results themselves). */
interface StreamTally {
  frames: number;
  trackIds: Set<number>;
  lastTracks: number;
  /** MOT rows of the tracks, only for a stream scored against a ground-truth file. */
  motRows?: MotRow[];
}

export function tracksToMotRows(results: FrameResult[]): MotRow[] {
  const rows: MotRow[] = [];
  for (const r of results) {
    for (const t of r.tracks) {
      rows.push({ frame: r.frameIndex + 1, id: t.trackId, x: t.x1, y: t.y1, w: t.x2 - t.x1, h: t.y2 - t.y1, conf: t.score });
    }
  }
  return rows;
}

/** Options of `camtrack demo` (declared in main.ts). */
export interface DemoOptions {
  /** Built-in scene: streams and frames per stream. */
  streams: number;
  frames: number;
  model?: string;
  source?: string[];
  gt?: string[];
  /** Seconds; 0 = until every source ends. */
  duration: number;
  json?: boolean;
  quiet?: boolean;
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const { source: sources = [], gt: gts = [], quiet = false, duration: durationS, streams, frames } = options;
  let modelPath = options.model;
  let gtFiles: (string | undefined)[] = [];
  let urls: string[];
  let classNames: string[] | undefined;
  let what: string;
  if (sources.length === 0) {
    if (!quiet) console.log(`camtrack demo: preparing ${streams} synthetic scenes (${frames} frames each) in ${cacheDir()} …`);
    const assets = await ensureDemoAssets(path.join(cacheDir(), 'demo'), { streams, scene: { frames } });
    modelPath ??= assets.modelPath;
    classNames = assets.classNames;
    urls = assets.streams.map((s) => s.videoPath);
    gtFiles = assets.streams.map((s) => s.gtPath);
    what = `built-in scene: ${streams} streams of ${assets.streams[0]!.spec.width}x${assets.streams[0]!.spec.height} MPEG-4, ${assets.streams[0]!.spec.objects} moving objects each`;
  } else {
    if (!modelPath) throw new UsageError('--source needs --model <file.onnx>');
    urls = sources;
    gtFiles = gts;
    what = `${sources.length} source(s)`;
  }
  const pipeline = await Pipeline.create({
    model: classNames ? { path: modelPath!, classNames } : modelPath!,
  });
  const tallies = new Map<string, StreamTally>();
  const errors: string[] = [];
  const t0 = performance.now();
  let finalStats: ReturnType<Pipeline['stats']> | undefined;
  try {
    urls.forEach((url, i) => {
      const id = `cam${i + 1}`;
      const tally: StreamTally = { frames: 0, trackIds: new Set(), lastTracks: 0 };
      if (gtFiles[i]) tally.motRows = [];
      tallies.set(id, tally);
      const s = pipeline.addStream({ id, url });
      s.on('error', (err: Error & { code?: string; hint?: string }) =>
        errors.push(`${id}: [${err.code}] ${err.message}${err.hint ? ` (hint: ${err.hint})` : ''}`),
      );
      s.onResult((r) => {
        tally.frames++;
        tally.lastTracks = r.tracks.length;
        for (const t of r.tracks) tally.trackIds.add(t.trackId);
        if (tally.motRows) for (const row of tracksToMotRows([r])) tally.motRows.push(row);
      });
    });
    if (!quiet) console.log(`camtrack demo: ${what}; model ${path.basename(modelPath!)} (${pipeline.model.layout}, ${pipeline.model.inputWidth}x${pipeline.model.inputHeight}), backend ${pipeline.stats().backend}`);
    const timer = quiet
      ? undefined
      : setInterval(() => {
          const st = pipeline.stats();
          const line = st.streams
            .map((s) => {
              const tracks = tallies.get(s.id)?.lastTracks ?? 0;
              return `${s.id} ${s.fps.toFixed(1).padStart(5)} fps ${String(tracks).padStart(2)} tracks`;
            })
            .join(' | ');
          console.log(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${line} | p50 ${st.latency.p50Ms.toFixed(0)} ms`);
        }, 1000);
    // A live source never ends by itself (it reconnects), so Ctrl-C and --duration end the run too, like `run`.
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const deadline = durationS > 0 ? setTimeout(stop, durationS * 1000) : undefined;
    try {
      await Promise.race([pipeline.whenAllEnded(), stopped]);
    } finally {
      // A second Ctrl-C while closing gets Node's default: exit at once.
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (deadline) clearTimeout(deadline);
      if (timer) clearInterval(timer);
    }
  } finally {
    finalStats = pipeline.closed ? undefined : pipeline.stats();
    await pipeline.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const total = [...tallies.values()].reduce((n, t) => n + t.frames, 0);
  for (const e of errors) console.error(`error: ${e}`);
  const summary: Record<string, unknown> = { streams: urls.length, frames: total, seconds, fps: total / seconds, latency: finalStats?.latency };
  const perStream: Record<string, unknown>[] = [];
  let gtRowsAll: MotRow[] = [],
    resRowsAll: MotRow[] = [];
  let offset = 0;
  for (const [i, [id, tally]] of [...tallies.entries()].entries()) {
    const entry: Record<string, unknown> = { id, frames: tally.frames, tracks: tally.trackIds.size };
    const gtFile = gtFiles[i];
    if (gtFile) {
      // As `camtrack eval` by default: MOTChallenge gt rows with conf 0 (ignored/distractor) are not scored; a file
      // without a conf column keeps every row.
      const gt = consideredGtRows(parseMotFile(await readFile(gtFile, 'utf8'), { missingConf: Number.NaN }), 1);
      const res = tally.motRows ?? [];
      const m = evaluateMot(gt, res);
      Object.assign(entry, { mota: m.mota, idf1: m.idf1, idSwitches: m.numSwitches, fp: m.numFalsePositives, fn: m.numMisses });
      // Pool all streams into one evaluation by giving each stream its own frame range.
      const frameSpan = Math.max(0, ...gt.map((r) => r.frame), ...res.map((r) => r.frame)) + 1;
      gtRowsAll = gtRowsAll.concat(gt.map((r) => ({ ...r, frame: r.frame + offset, id: r.id + i * 1e6 })));
      resRowsAll = resRowsAll.concat(res.map((r) => ({ ...r, frame: r.frame + offset, id: r.id + i * 1e6 })));
      offset += frameSpan;
    }
    perStream.push(entry);
  }
  summary.streamsDetail = perStream;
  if (gtRowsAll.length) {
    const m = evaluateMot(gtRowsAll, resRowsAll);
    summary.accuracy = { mota: m.mota, idf1: m.idf1, idSwitches: m.numSwitches, fp: m.numFalsePositives, fn: m.numMisses, gtBoxes: gtRowsAll.length };
  }
  if (options.json) {
    console.log(JSON.stringify(summary, null, 2));
  } else {
    for (const s of perStream) console.log(`  ${JSON.stringify(s)}`);
    console.log(`camtrack demo: ${total} frames from ${urls.length} streams in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(1)} fps total)`);
    const acc = summary.accuracy as { mota: number; idf1: number; idSwitches: number; fp: number; fn: number; gtBoxes: number } | undefined;
    if (acc) {
      console.log(
        `tracking accuracy vs ground truth: MOTA ${(100 * acc.mota).toFixed(1)} %, IDF1 ${(100 * acc.idf1).toFixed(1)} %, ` +
          `ID switches ${acc.idSwitches}, FP ${acc.fp}, FN ${acc.fn} over ${acc.gtBoxes} ground-truth boxes`,
      );
    }
  }
  return errors.length > 0 ? 1 : 0;
}
