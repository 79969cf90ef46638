/**
 * A camera publisher (the seed's camera worker; `camtrack publish`): a file or RTSP source decoded and JPEG-encoded
 * by an ffmpeg child process (`-f image2pipe -c:v mjpeg`: this build has no native JPEG encoder; FFMPEG_PATH or
 * `ffmpeg` on PATH), each JPEG added to the camera's input stream with XADD in the input message format
 * (docs/redis.md, "Input"): `frame` (the JPEG bytes), `frame_id` (0, 1, …), `timestamp` (seconds since the epoch, when
 * it was published), `camera_id`; field names from `redis.input.fields`.
 *
 * Pacing: a file is read at its own frame rate (ffmpeg -re) unless `realtime` is false (as fast as Redis takes it);
 * `fps` resamples (ffmpeg's fps filter). Writes are pipelined, at most 32 in flight: a realtime source whose frames
 * Redis cannot take that fast drops them (counted `busy`); a non-realtime one waits. While Redis is away frames are
 * dropped (counted `redis`) and the connection is retried; the publisher goes on.
 */
import { spawn } from 'node:child_process';

import { CamtrackError, redactSecretsIn } from '../errors.js';
import { findFfmpeg } from '../demo/scene.js';
import { JpegSplitter } from '../sources/jpeg.js';
import type { NormalisedRedisOptions } from '../config.js';
import { connectOnce, createRedisClient, isReplyError, redisEndpoint, redisError } from './client.js';
import { redisKey } from './keys.js';

export interface PublishOptions {
  redis: NormalisedRedisOptions;
  camera: string;
  /** A file path or rtsp:// (any URL ffmpeg reads). */
  source: string;
  /** Resample to this many frames per second (0 = the source's rate). */
  fps: number;
  /** Stop after this many seconds of source time (0 = to the end). */
  durationS: number;
  /** Stop after this many frames (0 = no limit). */
  maxFrames: number;
  /** Read a file at its own rate (default true; RTSP is live anyway). */
  realtime: boolean;
  /** XADD MAXLEN ~ of the input stream (0 = no trimming). */
  maxLen: number;
  /** JPEG quality, ffmpeg -q:v (2 best … 31 worst). */
  quality: number;
  /** Called for every frame published (tests, progress). */
  onFrame?: (frameId: number, entryId: string) => void;
  /** Stops publishing when aborted (SIGINT). */
  signal?: AbortSignal;
}

export interface PublishSummary {
  camera: string;
  key: string;
  url: string;
  /** Frames added to the stream. */
  frames: number;
  bytes: number;
  seconds: number;
  fps: number;
  /** Frames not added: Redis away (`redis`), Redis slower than a realtime source (`busy`), refused (`failed`). */
  dropped: { redis: number; busy: number; failed: number };
  firstId: string | null;
  lastId: string | null;
}

const MAX_IN_FLIGHT = 32;

/** The ffmpeg arguments that turn `o.source` into concatenated JPEGs on stdout. */
export function ffmpegArgs(o: Pick<PublishOptions, 'source' | 'fps' | 'durationS' | 'maxFrames' | 'realtime' | 'quality'>): string[] {
  const live = /^(rtsps?|rtmp|udp|rtp|srt|https?):/i.test(o.source);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  if (/^rtsps?:/i.test(o.source)) args.push('-rtsp_transport', 'tcp', '-timeout', '10000000');
  if (!live && o.realtime) args.push('-re');
  args.push('-i', o.source, '-an', '-sn', '-dn');
  if (o.durationS > 0) args.push('-t', String(o.durationS));
  if (o.fps > 0) args.push('-vf', `fps=${o.fps}`);
  if (o.maxFrames > 0) args.push('-frames:v', String(o.maxFrames));
  args.push('-c:v', 'mjpeg', '-q:v', String(o.quality), '-pix_fmt', 'yuvj420p', '-f', 'image2pipe', '-');
  return args;
}

/** Publishes until the source ends, maxFrames, durationS or the signal. ERR_CAMTRACK_REDIS / _SOURCE_OPEN / _FFMPEG_MISSING. */
export async function publish(o: PublishOptions): Promise<PublishSummary> {
  const endpoint = redisEndpoint(o.redis.url);
  const client = createRedisClient(endpoint, { name: 'camtrack:publish', connectTimeoutMs: o.redis.connectTimeoutMs, commandTimeoutMs: o.redis.commandTimeoutMs });
  client.on('error', () => {});
  await connectOnce(client, endpoint);
  const key = redisKey(o.redis.input.key, o.camera);
  const f = o.redis.input.fields;
  const summary: PublishSummary = {
    camera: o.camera,
    key,
    url: endpoint.shown,
    frames: 0,
    bytes: 0,
    seconds: 0,
    fps: 0,
    dropped: { redis: 0, busy: 0, failed: 0 },
    firstId: null,
    lastId: null,
  };
  const ffmpeg = findFfmpeg();
  const child = spawn(ffmpeg, ffmpegArgs(o), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const splitter = new JpegSplitter();
  let inFlight = 0;
  let frameId = 0;
  let failure: Error | undefined;
  const started = performance.now();
  let lastWrite: Promise<unknown> = Promise.resolve();
  const onAbort = (): void => {
    child.kill('SIGTERM');
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });

  const add = (jpeg: Buffer): void => {
    const id = frameId++;
    if (client.status !== 'ready') {
      summary.dropped.redis++;
      return;
    }
    if (inFlight >= MAX_IN_FLIGHT) {
      summary.dropped.busy++;
      return;
    }
    inFlight++;
    const trim = o.maxLen > 0 ? ['MAXLEN', '~', String(o.maxLen)] : [];
    const fields = [f.frame, jpeg, f.frameId, String(id), f.timestamp, (Date.now() / 1000).toFixed(3), 'camera_id', o.camera];
    lastWrite = client
      .xadd(key, ...trim, '*', ...fields)
      .then((entryId) => {
        summary.frames++;
        summary.bytes += jpeg.length;
        summary.firstId ??= entryId;
        summary.lastId = entryId;
        o.onFrame?.(id, entryId!);
      })
      .catch((err: unknown) => {
        if (isReplyError(err)) {
          summary.dropped.failed++;
          failure ??= redisError(err, endpoint, `XADD ${key}`);
        } else summary.dropped.redis++;
      })
      .finally(() => {
        inFlight--;
        if (inFlight < MAX_IN_FLIGHT / 2 && child.stdout.isPaused()) child.stdout.resume();
      });
    // A file read as fast as possible waits for Redis instead of dropping.
    if (!o.realtime && inFlight >= MAX_IN_FLIGHT) child.stdout.pause();
  };

  child.stdout.on('data', (chunk: Buffer) => {
    try {
      for (const jpeg of splitter.push(chunk)) add(jpeg);
    } catch (err) {
      failure ??= err as Error;
      child.kill('SIGKILL');
    }
  });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  o.signal?.removeEventListener('abort', onAbort);
  while (inFlight > 0) await lastWrite.catch(() => undefined);
  summary.seconds = (performance.now() - started) / 1000;
  summary.fps = summary.seconds > 0 ? Number((summary.frames / summary.seconds).toFixed(2)) : 0;
  client.disconnect();
  if (exit.error) {
    throw new CamtrackError(`Cannot run ffmpeg (${ffmpeg}): ${exit.error.code ?? exit.error.message}`, 'ERR_CAMTRACK_FFMPEG_MISSING', {
      stage: 'publish',
      hint: 'camtrack publish encodes JPEGs with the ffmpeg command-line tool: sudo apt-get install -y ffmpeg, or set FFMPEG_PATH',
    });
  }
  const aborted = o.signal?.aborted === true;
  if (!aborted && exit.code !== 0 && summary.frames === 0) {
    throw new CamtrackError(
      `cannot read ${redactSecretsIn(o.source)}: ffmpeg ${exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`}` +
        (stderr.trim() ? `: ${redactSecretsIn(stderr.trim().split('\n').slice(-3).join(' '))}` : ''),
      'ERR_CAMTRACK_SOURCE_OPEN',
      { stage: 'publish', hint: 'check the file path or the RTSP URL (and its credentials)' },
    );
  }
  if (failure) throw failure;
  return summary;
}
