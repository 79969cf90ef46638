/**
 * `camtrack publish --redis URL --camera ID --source FILE|RTSP [--fps N] [--duration S] [--max-frames N]
 * [--max-len N] [--quality Q] [--no-realtime] [--json]`: the seed's camera worker. Decodes the source, JPEG-encodes
 * each frame (ffmpeg child process, src/redis/publisher.ts) and adds it to `camera_{ID}_input` in the input message
 * format (docs/redis.md). Stops at the end of the source, after --duration/--max-frames, or on SIGINT/SIGTERM, then
 * prints one summary line (JSON with --json): frames published, bytes, fps, drops by cause.
 */
import { normaliseRedisOptions } from '../config.js';
import { publish, type PublishSummary } from '../redis/publisher.js';

/** Options of `camtrack publish` (declared in main.ts). */
export interface PublishCliOptions {
  redis: string;
  camera: string;
  source: string;
  fps: number;
  duration: number;
  maxFrames: number;
  maxLen: number;
  quality: number;
  realtime: boolean;
  json?: boolean;
}

export function formatPublishSummary(s: PublishSummary): string {
  const d = s.dropped;
  return (
    `camtrack publish: camera ${s.camera}: ${s.frames} frames (${(s.bytes / 1e6).toFixed(1)} MB) to ${s.url} ${s.key} in ` +
    `${s.seconds.toFixed(1)} s, ${s.fps} fps; dropped ${d.redis + d.busy + d.failed} (redis ${d.redis}, busy ${d.busy}, failed ${d.failed})`
  );
}

export async function runPublish(o: PublishCliOptions): Promise<number> {
  const redis = normaliseRedisOptions({ url: o.redis });
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const s = await publish({
      redis,
      camera: o.camera,
      source: o.source,
      fps: o.fps,
      durationS: o.duration,
      maxFrames: o.maxFrames,
      realtime: o.realtime,
      maxLen: o.maxLen,
      quality: o.quality,
      signal: abort.signal,
    });
    process.stdout.write((o.json ? JSON.stringify(s) : formatPublishSummary(s)) + '\n');
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
