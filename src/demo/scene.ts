/**
 * The built-in synthetic demo scene: coloured squares of one fixed size moving with constant velocity over a
 * dark textured background, bouncing off the frame edges and passing over each other (the object drawn later
 * hides the earlier one). Everything is a pure function of a {@link SceneSpec}, so the ground truth is exact
 * and the same on every machine: `npx camtrack demo` needs no downloaded assets.
 *
 * - {@link generateScene}: trajectories, ground truth and an RGB24 frame renderer (no I/O).
 * - {@link encodeScene}: renders every frame into an ffmpeg child (FFmpeg's own MPEG-4 Part 2 encoder, an LGPL
 *   encoder that every FFmpeg build has, the prebuilt @camtrack/ffmpeg-linux-x64 included; yuv420p, mp4) and writes
 *   the ground truth next to it in MOTChallenge format ({@link gtPathFor}).
 *
 * Ground-truth convention (MOTChallenge): frames are 1-based; ids are 1-based; boxes are left, top, width,
 * height in pixels of the frame, with 0-based pixel coordinates (the square covering columns 10..49 has
 * left = 10, width = 40); an object appears in a frame only when at least {@link MIN_VISIBILITY} of its area is
 * visible. The detector in ./scene-model.ts and camtrack's tracker output use the same coordinates.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { findPackage, PREBUILT_ADDON_PACKAGE, PREBUILT_LIBS_PACKAGE } from '../native-prebuilt.js';

/** What to generate. All fields are integers (`idle`: ranges of integers). */
export interface SceneSpec {
  /** Frame width in pixels. Default 640; even, 64..4096. */
  width: number;
  /** Frame height in pixels. Default 360; even, 64..4096. */
  height: number;
  /** Frames per second written into the video. Default 25; 1..240. */
  fps: number;
  /** Number of frames. Default 250 (10 s at 25 fps); 1..100000. */
  frames: number;
  /** Number of moving squares. Default 6; 1..64. Colours repeat after {@link SCENE_COLOURS}.length. */
  objects: number;
  /** Random seed: different seeds give different trajectories and textures. Default 1; any integer. */
  seed: number;
  /** Side of every square in pixels. Default 40; 8..min(width,height)/2. */
  objectSize: number;
  /**
   * Empty stretches: 1-based inclusive frame ranges `[first, last]` in which no object is in the scene (none drawn,
   * none in the ground truth; the squares keep moving unseen and reappear where their courses have taken them).
   * Default none. For motion gating (docs/scheduling.md).
   */
  idle?: readonly (readonly [number, number])[];
}

/** Defaults for every {@link SceneSpec} field. */
export const DEFAULT_SCENE_SPEC: Readonly<SceneSpec> = Object.freeze({
  width: 640,
  height: 360,
  fps: 25,
  frames: 250,
  objects: 6,
  seed: 1,
  objectSize: 40,
});

/** An object is listed in the ground truth of a frame only when at least this fraction of it is visible. */
export const MIN_VISIBILITY = 0.5;

/** A square's colour and its class name. Channel values are 0..255. */
export interface SceneColour {
  readonly name: string;
  readonly rgb: readonly [number, number, number];
}

/** Level of a channel that is "on" / "off" in the object colours. The detector relies on these two values. */
export const COLOUR_HI = 230;
export const COLOUR_LO = 25;

/**
 * The six object colours (= detector classes, in class-id order): the corners of the RGB cube other than
 * black and white, so every pair differs by (HI-LO) in at least one channel.
 */
export const SCENE_COLOURS: readonly SceneColour[] = Object.freeze(
  (
    [
      ['red square', [1, 0, 0]],
      ['green square', [0, 1, 0]],
      ['blue square', [0, 0, 1]],
      ['yellow square', [1, 1, 0]],
      ['magenta square', [1, 0, 1]],
      ['cyan square', [0, 1, 1]],
    ] as const
  ).map(([name, on]) =>
    Object.freeze({
      name,
      rgb: Object.freeze([on[0] ? COLOUR_HI : COLOUR_LO, on[1] ? COLOUR_HI : COLOUR_LO, on[2] ? COLOUR_HI : COLOUR_LO]) as [
        number,
        number,
        number,
      ],
    }),
  ),
);

/** One ground-truth box. */
export interface GtBox {
  /** 1-based frame number. */
  frame: number;
  /** 1-based object id (stable over the whole scene). */
  id: number;
  /** Left edge, 0-based pixels. */
  x: number;
  /** Top edge, 0-based pixels. */
  y: number;
  w: number;
  h: number;
  /** Class id = index into {@link SCENE_COLOURS}. */
  classId: number;
  /** Visible fraction of the square, 0..1 (>= MIN_VISIBILITY in the ground truth). */
  visibility: number;
}

/** A generated scene. Immutable apart from the caller-owned buffers passed to renderFrame. */
export interface Scene {
  readonly spec: Readonly<SceneSpec>;
  /** Visible objects, sorted by frame then id. */
  readonly groundTruth: readonly GtBox[];
  /** All objects in drawing order for a 1-based frame, visible or not (same fields as GtBox); none in an idle frame. */
  objectsAt(frame: number): GtBox[];
  /**
   * Renders 1-based `frame` as packed RGB24 (width*height*3 bytes). Writes into `out` when given (must be
   * exactly that size), else allocates. Pure: the same frame always gives the same bytes.
   */
  renderFrame(frame: number, out?: Uint8Array): Uint8Array;
  /** Yields every frame in order; each yielded array is freshly allocated (safe to hand to a stream). */
  frames(): Generator<Uint8Array, void, undefined>;
}

/** mulberry32: small, fast, deterministic PRNG returning [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`Expected integer in [${min}, ${max}] for scene ${name} but received ${String(v)} of type ${typeof v}`);
  }
}

/** Fills defaults and validates; throws RangeError naming the bad field. */
export function resolveSceneSpec(spec: Partial<SceneSpec> = {}): SceneSpec {
  const s: SceneSpec = { ...DEFAULT_SCENE_SPEC, ...spec };
  checkInt('width', s.width, 64, 4096);
  checkInt('height', s.height, 64, 4096);
  if (s.width % 2 || s.height % 2) throw new RangeError(`Expected even width and height for yuv420p but received ${s.width}x${s.height}`);
  checkInt('fps', s.fps, 1, 240);
  checkInt('frames', s.frames, 1, 100000);
  checkInt('objects', s.objects, 1, 64);
  checkInt('seed', s.seed, -(2 ** 31), 2 ** 32 - 1);
  checkInt('objectSize', s.objectSize, 8, Math.floor(Math.min(s.width, s.height) / 2));
  if (s.idle !== undefined) {
    if (!Array.isArray(s.idle)) throw new RangeError(`Expected an array of [first, last] frame ranges for scene idle`);
    for (const r of s.idle) {
      if (!Array.isArray(r) || r.length !== 2) throw new RangeError(`Expected [first, last] for a scene idle range but received ${JSON.stringify(r)}`);
      checkInt('idle first frame', r[0], 1, s.frames);
      checkInt('idle last frame', r[1], r[0], s.frames);
    }
  }
  return s;
}

/**
 * Builds the scene: trajectories for all frames, exact visibility and the ground truth. Cost is
 * O(frames * objects² * objectSize²) for the occlusion bookkeeping (≈15 M steps for the defaults).
 */
export function generateScene(partial: Partial<SceneSpec> = {}): Scene {
  const spec = Object.freeze(resolveSceneSpec(partial));
  const { width: W, height: H, frames: F, objects: n, objectSize: size } = spec;
  const rand = prng(spec.seed ^ 0x5eed);

  // Start positions: rejection-sample so no two squares overlap in frame 1 (with a margin).
  const maxX = W - size;
  const maxY = H - size;
  const sx: number[] = [];
  const sy: number[] = [];
  const svx: number[] = [];
  const svy: number[] = [];
  const clearOfOthers = (x: number, y: number, upTo: number, except = -1): boolean => {
    for (let j = 0; j < upTo; j++) {
      if (j !== except && Math.abs(sx[j]! - x) < size + 4 && Math.abs(sy[j]! - y) < size + 4) return false;
    }
    return true;
  };
  for (let i = 0; i < n; i++) {
    let x = 0;
    let y = 0;
    for (let attempt = 0; attempt < 1000; attempt++) {
      x = rand() * maxX;
      y = rand() * maxY;
      if (clearOfOthers(x, y, i)) break;
    }
    sx.push(x);
    sy.push(y);
    // Speed 1.5..4 px/frame, direction 18°..72° from the x axis in a random quadrant (diagonal-ish, so
    // squares cross the frame and each other rather than sliding along one edge).
    const speed = 1.5 + rand() * 2.5;
    const angle = (0.1 + rand() * 0.3) * Math.PI;
    const quadrant = Math.floor(rand() * 4);
    svx.push(speed * Math.cos(angle) * (quadrant & 1 ? -1 : 1));
    svy.push(speed * Math.sin(angle) * (quadrant & 2 ? -1 : 1));
  }

  /** Float positions of a square for frames 0..F-1: constant velocity, mirror bounce at the edges. */
  const simulate = (i: number): Float64Array => {
    const out = new Float64Array(F * 2);
    let x = sx[i]!;
    let y = sy[i]!;
    let vx = svx[i]!;
    let vy = svy[i]!;
    for (let f = 0; f < F; f++) {
      if (f > 0) {
        x += vx;
        y += vy;
        if (x < 0) [x, vx] = [-x, -vx];
        if (x > maxX) [x, vx] = [2 * maxX - x, -vx];
        if (y < 0) [y, vy] = [-y, -vy];
        if (y > maxY) [y, vy] = [2 * maxY - y, -vy];
      }
      out[f * 2] = x;
      out[f * 2 + 1] = y;
    }
    return out;
  };

  // Guaranteed crossings: every odd-indexed square is put on a straight course that meets the square before
  // it exactly at a frame in the middle 60% of the scene, so it passes over it and hides it completely for a
  // few frames (an identity-switch trap for trackers). Falls back to the random course when no start
  // position with a plausible speed (1..4.5 px/frame) is found (e.g. very short scenes).
  for (let i = 1; i < n; i += 2) {
    const other = simulate(i - 1);
    for (let attempt = 0; attempt < 300; attempt++) {
      const meet = Math.round(F * (0.2 + 0.6 * rand()));
      if (meet < 1 || meet >= F) break;
      const x = rand() * maxX;
      const y = rand() * maxY;
      const vx = (other[meet * 2]! - x) / meet;
      const vy = (other[meet * 2 + 1]! - y) / meet;
      const speed = Math.hypot(vx, vy);
      if (speed < 1 || speed > 4.5 || !clearOfOthers(x, y, n, i)) continue;
      sx[i] = x;
      sy[i] = y;
      svx[i] = vx;
      svy[i] = vy;
      break;
    }
  }

  // Integer draw positions per frame and object: pos[(f * n + i) * 2 + {0,1}], f 0-based.
  const pos = new Int32Array(F * n * 2);
  for (let i = 0; i < n; i++) {
    const p = simulate(i);
    for (let f = 0; f < F; f++) {
      pos[(f * n + i) * 2] = Math.round(p[f * 2]!);
      pos[(f * n + i) * 2 + 1] = Math.round(p[f * 2 + 1]!);
    }
  }

  // Visibility: the fraction of square i not covered by any square drawn after it (j > i).
  const visibility = new Float32Array(F * n);
  const mask = new Uint8Array(size * size);
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < n; i++) {
      const xi = pos[(f * n + i) * 2]!;
      const yi = pos[(f * n + i) * 2 + 1]!;
      let any = false;
      for (let j = i + 1; j < n; j++) {
        const dx = pos[(f * n + j) * 2]! - xi;
        const dy = pos[(f * n + j) * 2 + 1]! - yi;
        if (Math.abs(dx) >= size || Math.abs(dy) >= size) continue;
        if (!any) mask.fill(0);
        any = true;
        const x0 = Math.max(0, dx);
        const x1 = Math.min(size, dx + size);
        const y0 = Math.max(0, dy);
        const y1 = Math.min(size, dy + size);
        for (let y = y0; y < y1; y++) mask.fill(1, y * size + x0, y * size + x1);
      }
      let covered = 0;
      if (any) for (let k = 0; k < mask.length; k++) covered += mask[k]!;
      visibility[f * n + i] = 1 - covered / (size * size);
    }
  }

  const box = (f: number, i: number): GtBox => ({
    frame: f + 1,
    id: i + 1,
    x: pos[(f * n + i) * 2]!,
    y: pos[(f * n + i) * 2 + 1]!,
    w: size,
    h: size,
    classId: i % SCENE_COLOURS.length,
    visibility: visibility[f * n + i]!,
  });
  const idle = new Uint8Array(F); // 1: frame f (0-based) is in an empty stretch
  for (const [a, b] of spec.idle ?? []) idle.fill(1, a - 1, b);
  const groundTruth: GtBox[] = [];
  for (let f = 0; f < F; f++) {
    if (idle[f]) continue;
    for (let i = 0; i < n; i++) if (visibility[f * n + i]! >= MIN_VISIBILITY) groundTruth.push(box(f, i));
  }

  // Static background: a smooth dark slate gradient plus per-pixel noise (texture for the encoder).
  const background = new Uint8Array(W * H * 3);
  const ph = [rand() * 6.28, rand() * 6.28, rand() * 6.28];
  let hash = (spec.seed * 2654435761) >>> 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const smooth = 14 * Math.sin(x / 53 + ph[0]!) * Math.cos(y / 37 + ph[1]!) + 8 * Math.sin((x + y) / 97 + ph[2]!);
      hash = (Math.imul(hash ^ (hash >>> 13), 0x5bd1e995) + 0x27d4eb2d) >>> 0;
      const noise = (hash & 15) - 8; // -8..7
      const base = 62 + smooth + noise;
      const o = (y * W + x) * 3;
      background[o] = clamp(base - 6);
      background[o + 1] = clamp(base);
      background[o + 2] = clamp(base + 10);
    }
  }
  // Fixed per-object-pixel texture, ±5 levels, moving with the object.
  const objTexture = new Int8Array(size * size);
  for (let k = 0; k < objTexture.length; k++) objTexture[k] = Math.floor(rand() * 11) - 5;

  const frameBytes = W * H * 3;
  const renderFrame = (frame: number, out?: Uint8Array): Uint8Array => {
    checkInt('frame', frame, 1, F);
    if (out !== undefined && out.length !== frameBytes) {
      throw new RangeError(`Expected a ${frameBytes}-byte buffer for a ${W}x${H} RGB24 frame but received ${out.length}`);
    }
    const buf = out ?? new Uint8Array(frameBytes);
    buf.set(background);
    const f = frame - 1;
    for (let i = 0; i < (idle[f] ? 0 : n); i++) {
      const x0 = pos[(f * n + i) * 2]!;
      const y0 = pos[(f * n + i) * 2 + 1]!;
      const [r, g, b] = SCENE_COLOURS[i % SCENE_COLOURS.length]!.rgb;
      for (let y = 0; y < size; y++) {
        let o = ((y0 + y) * W + x0) * 3;
        for (let x = 0; x < size; x++, o += 3) {
          const t = objTexture[y * size + x]!;
          buf[o] = r + t;
          buf[o + 1] = g + t;
          buf[o + 2] = b + t;
        }
      }
    }
    return buf;
  };

  return {
    spec,
    groundTruth,
    objectsAt(frame: number): GtBox[] {
      checkInt('frame', frame, 1, F);
      const out: GtBox[] = [];
      for (let i = 0; i < (idle[frame - 1] ? 0 : n); i++) out.push(box(frame - 1, i));
      return out;
    },
    renderFrame,
    *frames() {
      for (let f = 1; f <= F; f++) yield renderFrame(f);
    },
  };
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** MOTChallenge text for the ground truth: `frame,id,left,top,width,height,1,-1,-1,-1` per line. */
export function groundTruthToMot(gt: readonly GtBox[]): string {
  let s = '';
  for (const b of gt) s += `${b.frame},${b.id},${b.x},${b.y},${b.w},${b.h},1,-1,-1,-1\n`;
  return s;
}

/** Where {@link encodeScene} writes the ground truth for a video: `scene.mp4` → `scene.gt.txt`. */
export function gtPathFor(videoPath: string): string {
  const ext = path.extname(videoPath);
  return (ext ? videoPath.slice(0, -ext.length) : videoPath) + '.gt.txt';
}

/** Error code when no ffmpeg executable can be started. */
export const ERR_CAMTRACK_FFMPEG_MISSING = 'ERR_CAMTRACK_FFMPEG_MISSING';
/** Error code when ffmpeg ran but failed (or timed out). */
export const ERR_CAMTRACK_FFMPEG = 'ERR_CAMTRACK_FFMPEG';

function codedError(code: string, message: string, cause?: unknown): Error & { code: string } {
  const e = new Error(message, cause === undefined ? undefined : { cause }) as Error & { code: string };
  e.code = code;
  return e;
}

/**
 * The ffmpeg executable to run: env FFMPEG_PATH when set and non-empty; else the `ffmpeg` tool of the prebuilt
 * @camtrack/ffmpeg-linux-x64 package when it is installed (an LGPL build with the encoder the demo uses, so
 * `camtrack demo` needs no system FFmpeg); else `ffmpeg` from PATH.
 */
export function findFfmpeg(): string {
  const env = process.env['FFMPEG_PATH'];
  if (env !== undefined && env !== '') return env;
  return bundledFfmpeg() ?? 'ffmpeg';
}

/** bin/ffmpeg of @camtrack/ffmpeg-linux-x64 as resolved from this package, or undefined when it is not installed. */
export function bundledFfmpeg(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const addon = findPackage(PREBUILT_ADDON_PACKAGE, here);
  const libs = findPackage(PREBUILT_LIBS_PACKAGE, addon?.dir ?? here);
  const bin = libs ? path.join(libs.dir, 'bin', 'ffmpeg') : undefined;
  return bin !== undefined && existsSync(bin) ? bin : undefined;
}

/** Options for {@link encodeScene}. */
export interface EncodeSceneOptions {
  /** ffmpeg executable. Default {@link findFfmpeg}(). */
  ffmpegPath?: string;
  /** Kill ffmpeg and fail after this long. Default 120000 ms; 1..3600000. */
  timeoutMs?: number;
}

/** What {@link encodeScene} wrote. */
export interface EncodedScene {
  videoPath: string;
  gtPath: string;
  scene: Scene;
}

/**
 * Renders the scene into an MPEG-4 Part 2 mp4 (FFmpeg's `mpeg4` encoder at fixed quantiser 2, GOP 2×fps, yuv420p,
 * faststart: an LGPL encoder in every FFmpeg build, the prebuilt one included) and writes its ground
 * truth to {@link gtPathFor}(outPath). Both files are written under temporary names and renamed at the end, so
 * a crash never leaves a half-written file under the final name. The ffmpeg child is killed on any error, and
 * after `timeoutMs`.
 *
 * @throws Error code ERR_CAMTRACK_FFMPEG_MISSING when ffmpeg cannot be started; ERR_CAMTRACK_FFMPEG when it
 *   exits with an error (message includes the end of its stderr) or times out; RangeError for a bad spec.
 */
export async function encodeScene(
  partial: Partial<SceneSpec>,
  outPath: string,
  options: EncodeSceneOptions = {},
): Promise<EncodedScene> {
  const scene = generateScene(partial);
  const { width, height, fps } = scene.spec;
  const ffmpeg = options.ffmpegPath ?? findFfmpeg();
  const timeoutMs = options.timeoutMs ?? 120_000;
  checkInt('timeoutMs', timeoutMs, 1, 3_600_000);
  await mkdir(path.dirname(path.resolve(outPath)), { recursive: true });
  const tmpVideo = `${outPath}.partial-${process.pid}`;
  const gtPath = gtPathFor(outPath);
  const tmpGt = `${gtPath}.partial-${process.pid}`;

  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', '-',
    '-c:v', 'mpeg4', '-q:v', '2', '-g', String(2 * fps), '-pix_fmt', 'yuv420p',
    '-movflags', '+faststart', '-f', 'mp4', tmpVideo,
  ];
  // -nostdin only stops ffmpeg reading *interactive* commands; '-i -' still reads the raw frames from stdin.
  const child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  // A spawn failure is handled below through once(child, 'error'); this keeps a late 'error' (e.g. a failed
  // kill) from becoming an uncaught exception.
  child.on('error', () => {});
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  // EPIPE when ffmpeg dies early: the exit status reports the failure, so the stream error itself is ignored.
  child.stdin.on('error', () => {});
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const failed = (what: string): Error =>
    codedError(
      ERR_CAMTRACK_FFMPEG,
      `ffmpeg (${ffmpeg}) ${what} while encoding the demo scene to ${outPath}` + (stderr.trim() ? `: ${stderr.trim()}` : ''),
    );

  try {
    try {
      await Promise.race([once(child, 'spawn'), once(child, 'error').then(([e]) => Promise.reject(e as Error))]);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES') {
        throw codedError(
          ERR_CAMTRACK_FFMPEG_MISSING,
          `Cannot run ffmpeg (${ffmpeg}): ${code}. The demo encodes its scene with the ffmpeg command-line tool ` +
            '(the prebuilt package @camtrack/ffmpeg-linux-x64 has one; or Debian/Ubuntu: ' +
            'sudo apt-get install -y ffmpeg) ' +
            'or set FFMPEG_PATH to its path.',
          e,
        );
      }
      throw e;
    }
    let exited = false;
    void closed.then(() => (exited = true));
    for (const frame of scene.frames()) {
      if (exited) break;
      if (!child.stdin.write(frame)) {
        // once() rejects on a stream 'error' (EPIPE when ffmpeg died): the exit status reports that below.
        await Promise.race([once(child.stdin, 'drain').catch(() => undefined), closed]);
      }
    }
    child.stdin.end();
    const { code, signal } = await closed;
    if (timedOut) throw failed(`timed out after ${timeoutMs} ms`);
    if (code !== 0) throw failed(signal ? `was killed by ${signal}` : `exited with status ${String(code)}`);
    await writeFile(tmpGt, groundTruthToMot(scene.groundTruth));
    await rename(tmpVideo, outPath);
    await rename(tmpGt, gtPath);
    return { videoPath: outPath, gtPath, scene };
  } catch (e) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(tmpVideo, { force: true });
    await rm(tmpGt, { force: true });
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
