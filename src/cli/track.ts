/**
 * `camtrack track --det <det.txt> --out <res.txt> [--tracker bytetrack|sort|iou] [--min-score S] [--frame-rate N]
 *                 [--track-buffer-seconds S] [--class-aware]`
 *
 * Runs one of the trackers on MOTChallenge detections (`frame,-1,x,y,w,h,score,…`, 1-based frames) and writes
 * MOTChallenge results (`frame,id,x,y,w,h,1,-1,-1,-1`), which `camtrack eval --gt gt.txt --res res.txt` scores.
 * Every frame from 1 to the last detection frame is fed to the tracker, frames without detections included.
 * Tracker parameters are the references' defaults (docs/tracking.md). ByteTrack needs the score column: a file
 * with six-field lines is ERR_CAMTRACK_INVALID_ARGUMENT for it (SORT and IoU do not use scores).
 */
import { readFile, writeFile } from 'node:fs/promises';

import { CamtrackError } from '../errors.js';
import { byFrame, formatMotRows, parseMotFile, type MotRow } from '../eval/mot-format.js';
import { Tracker, type StandaloneTrackerOptions, type TrackerType } from '../tracker.js';

/** Options of {@link trackMotDetections}. */
export interface TrackMotOptions {
  /** Tracker options (type, parameters). Default: ByteTrack with its reference defaults. */
  tracker?: StandaloneTrackerOptions;
  /** Detections with a score below this are dropped before tracking. Default: keep all. */
  minScore?: number;
}

/**
 * Tracks MOTChallenge detection rows frame by frame (1..last frame of `detections`, whatever minScore drops) and
 * returns MOTChallenge result rows (conf = 1, as SORT writes them), boxes as the tracker outputs them (not rounded).
 * A NaN conf means "no score" (`parseMotFile(text, { missingConf: NaN })`).
 *
 * @throws CamtrackError ERR_CAMTRACK_INVALID_ARGUMENT when the tracker is ByteTrack and a detection has no score.
 */
export function trackMotDetections(detections: readonly MotRow[], options: TrackMotOptions = {}): MotRow[] {
  const minScore = options.minScore ?? -Infinity;
  let last = 0;
  let unscored = 0;
  for (const d of detections) {
    if (!Number.isInteger(d.frame) || d.frame < 1) {
      throw new RangeError(`Expected 1-based integer frame numbers in MOT detections but received ${d.frame}`);
    }
    last = Math.max(last, d.frame);
    if (Number.isNaN(d.conf)) unscored++;
  }
  // ByteTrack splits detections by score and starts tracks only from high ones: without scores it would return
  // nothing, silently. The reference ByteTrack takes no detection without a score either (its update() reads column 4).
  if (unscored > 0 && (options.tracker?.type ?? 'bytetrack') === 'bytetrack') {
    throw new CamtrackError(
      `bytetrack needs detection scores, but ${unscored} of ${detections.length} detections have none (no conf column)`,
      'ERR_CAMTRACK_INVALID_ARGUMENT',
      {
        stage: 'cli',
        hint: 'add the score column (frame,-1,x,y,w,h,score), or use --tracker sort or --tracker iou, which do not use scores',
      },
    );
  }
  // `!(conf < minScore)`, not `conf >= minScore`: only scores below minScore are dropped (a NaN one is kept).
  const frames = byFrame(detections.filter((d) => !(d.conf < minScore)));
  const tracker = new Tracker(options.tracker ?? {});
  const out: MotRow[] = [];
  for (let frame = 1; frame <= last; frame++) {
    const dets = (frames.get(frame) ?? []).map((d) => ({
      x1: d.x,
      y1: d.y,
      x2: d.x + d.w,
      y2: d.y + d.h,
      score: d.conf,
      classId: 0,
    }));
    for (const t of tracker.update(dets)) {
      out.push({ frame, id: t.trackId, x: t.x1, y: t.y1, w: t.x2 - t.x1, h: t.y2 - t.y1, conf: 1 });
    }
  }
  return out;
}

/** Options of `camtrack track` (declared in main.ts). */
export interface TrackCliOptions {
  det: string;
  out: string;
  tracker: TrackerType;
  minScore?: number;
  frameRate?: number;
  trackBufferSeconds?: number;
  classAware?: boolean;
}

/** `camtrack track …` (see the file header). */
export async function runTrack(args: TrackCliOptions): Promise<number> {
  const { det: detPath, out: outPath, tracker: type, minScore, frameRate, trackBufferSeconds: seconds } = args;
  const tracker: StandaloneTrackerOptions = { type };
  if (frameRate !== undefined) tracker.frameRate = frameRate;
  if (seconds !== undefined) tracker.trackBufferSeconds = seconds;
  if (args.classAware) tracker.classAware = true;
  // NaN, not parseMotFile's -1, for a missing score column: -1 could be a written score (DPM scores are negative).
  const dets = parseMotFile(await readFile(detPath, 'utf8'), { missingConf: NaN });
  const started = performance.now();
  const rows = trackMotDetections(dets, minScore === undefined ? { tracker } : { tracker, minScore });
  const ms = performance.now() - started;
  await writeFile(outPath, formatMotRows(rows, { decimals: 2 }));
  // The frames fed to the tracker (1..last frame of the file), not the last frame that had an output track.
  const frames = dets.reduce((n, d) => Math.max(n, d.frame), 0);
  console.error(
    `camtrack track: ${type}: ${dets.length} detections → ${rows.length} track rows, ` +
      `${new Set(rows.map((r) => r.id)).size} ids, ${frames} frames in ${ms.toFixed(1)} ms → ${outPath}`,
  );
  return 0;
}
