/**
 * Images of the managed cameras (docs/serve.md, "Images"), made natively on demand (stream.snapshot(), src/snapshot.ts:
 * the next frame that goes on to postprocess, JPEG-encoded by TurboJPEG, boxes and track ids drawn natively):
 *   GET /api/v1/cameras/{id}/snapshot.jpg?boxes=1&quality=80   image/jpeg; X-Camtrack-Frame-Index and X-Camtrack-Pts-Ms
 *                                                              say which frame (match them with the results' frame_index)
 *   GET /api/v1/cameras/{id}/stream.mjpeg?fps=5&boxes=1        multipart/x-mixed-replace, one JPEG part per frame
 * Requests for the same camera and options share one native snapshot. snapshot.jpg: at most serve.snapshot.maxFps new
 * snapshots per camera per second (a token bucket), more get 429 ERR_CAMTRACK_RATE_LIMITED with Retry-After. A camera
 * that gives no frame within serve.snapshot.timeoutMs (connecting, reconnecting): 503 ERR_CAMTRACK_SNAPSHOT_TIMEOUT.
 * stream.mjpeg: each reader at its own rate (query fps, capped by serve.snapshot.streamMaxFps); a part is written only
 * when the reader's socket has drained, else that frame is skipped for it (camtrack_mjpeg_frames_skipped_total), so a
 * slow or vanished reader holds no frames and costs the others nothing. Readers end with their camera and at shutdown.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Counter } from 'prom-client';

import type { CameraEvent } from '../../cameras/registry.js';
import { CamtrackError } from '../../errors.js';
import type { Snapshot, SnapshotOptions } from '../../snapshot.js';
import type { Stream } from '../../stream.js';
import type { ServerContext } from '../context.js';

const BOUNDARY = 'camtrackframe';

const BoolQuery = Type.Union([Type.Literal('1'), Type.Literal('0'), Type.Literal('true'), Type.Literal('false')]);
const SnapshotQuery = Type.Object(
  {
    boxes: Type.Optional(BoolQuery),
    quality: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    token: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
const StreamQuery = Type.Object(
  {
    boxes: Type.Optional(BoolQuery),
    quality: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    fps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000 })),
    token: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
type Query = { boxes?: '1' | '0' | 'true' | 'false'; quality?: number; fps?: number };

/** A per-camera token bucket: `rate` per second, a burst of max(1, rate). */
class Bucket {
  #tokens: number;
  #at = performance.now();
  constructor(readonly rate: number) {
    this.#tokens = Math.max(1, rate);
  }
  /** Takes a token; else the ms until one is there. */
  take(): number {
    const now = performance.now();
    this.#tokens = Math.min(Math.max(1, this.rate), this.#tokens + ((now - this.#at) / 1000) * this.rate);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return ((1 - this.#tokens) / this.rate) * 1000;
  }
}

const images: FastifyPluginAsync<ServerContext> = async (app, ctx) => {
  const opts = ctx.config.serve.snapshot;
  const buckets = new Map<string, Bucket>();
  /** The snapshot being made per camera and options (shared by the requests that arrive meanwhile). */
  const pending = new Map<string, Promise<Snapshot>>();
  /** Per camera: MJPEG parts written and skipped (a reader's socket had not drained). */
  const mjpeg = new Map<string, { sent: number; skipped: number }>();
  const open = new Set<() => void>();

  const mjpegCounter = (name: string, help: string, field: 'sent' | 'skipped'): void => {
    new Counter({
      name,
      help,
      labelNames: ['camera'],
      registers: [ctx.metrics],
      collect() {
        this.reset();
        for (const [camera, c] of mjpeg) this.inc({ camera }, c[field]);
      },
    });
  };
  mjpegCounter('camtrack_mjpeg_frames_sent_total', 'stream.mjpeg parts written to readers.', 'sent');
  mjpegCounter('camtrack_mjpeg_frames_skipped_total', "stream.mjpeg frames not written to a reader whose socket had not drained.", 'skipped');

  const onCameraEvent = (e: CameraEvent): void => {
    if (e.type !== 'end' || e.cameraId === null) return;
    buckets.delete(e.cameraId);
    mjpeg.delete(e.cameraId);
  };
  ctx.cameras.on('event', onCameraEvent);
  app.addHook('preClose', async () => {
    ctx.cameras.off('event', onCameraEvent);
    for (const end of [...open]) end();
  });

  const streamOf = (id: string): Stream => {
    ctx.managed.view(id); // 404 for an unknown camera
    const stream = ctx.managed.stream(id); // the service's own cameras and the Redis worker's
    if (!stream) throw new CamtrackError(`camera ${JSON.stringify(id)} is not running`, 'ERR_CAMTRACK_NOT_FOUND', { stage: 'http' });
    return stream;
  };
  const optionsOf = (q: Query): Required<Omit<SnapshotOptions, 'timeoutMs'>> => ({
    boxes: q.boxes === '1' || q.boxes === 'true',
    quality: q.quality ?? opts.quality,
  });
  /** The snapshot of `stream` with `o`: joins one being made, else starts one (counting against the bucket if `limit`). */
  const snapshotOf = (stream: Stream, o: { boxes: boolean; quality: number }, limit: boolean): Promise<Snapshot> => {
    const key = `${stream.id}\0${o.boxes}\0${o.quality}`;
    const current = pending.get(key);
    if (current) return current;
    if (limit) {
      let bucket = buckets.get(stream.id);
      if (!bucket) buckets.set(stream.id, (bucket = new Bucket(opts.maxFps)));
      const wait = bucket.take();
      if (wait > 0) {
        const err = new CamtrackError(`camera ${JSON.stringify(stream.id)}: more than ${opts.maxFps} snapshots per second`, 'ERR_CAMTRACK_RATE_LIMITED', {
          stage: 'http',
          hint: 'ask less often, or read GET /api/v1/cameras/{id}/stream.mjpeg for a live view',
        });
        (err as { retryAfterMs?: number }).retryAfterMs = wait;
        return Promise.reject(err);
      }
    }
    const p = stream.snapshot({ ...o, timeoutMs: opts.timeoutMs }).catch((err: unknown) => {
      if ((err as CamtrackError).code === 'ERR_CAMTRACK_SNAPSHOT_TIMEOUT') (err as CamtrackError).message += ` (camera state: ${stream.state})`;
      // A frame that cannot be converted for a snapshot: a property of the camera, 409.
      if ((err as CamtrackError).code === 'ERR_CAMTRACK_UNSUPPORTED') (err as { statusCode?: number }).statusCode = 409;
      throw err;
    });
    pending.set(key, p);
    const clear = (): void => void (pending.get(key) === p && pending.delete(key));
    p.then(clear, clear);
    return p;
  };

  app.get<{ Params: { id: string }; Querystring: Query }>(
    '/api/v1/cameras/:id/snapshot.jpg',
    { schema: { querystring: SnapshotQuery } },
    async (request, reply) => {
      const stream = streamOf(request.params.id);
      let snap: Snapshot;
      try {
        snap = await snapshotOf(stream, optionsOf(request.query), true);
      } catch (err) {
        const wait = (err as { retryAfterMs?: number }).retryAfterMs;
        if (wait !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(wait / 1000))));
        throw err;
      }
      return reply
        .header('content-type', 'image/jpeg')
        .header('cache-control', 'no-store')
        .header('x-camtrack-frame-index', String(snap.frameIndex))
        .header('x-camtrack-pts-ms', String(snap.ptsMs))
        .header('x-camtrack-boxes', String(snap.numBoxes))
        .send(snap.jpeg);
    },
  );

  app.get<{ Params: { id: string }; Querystring: Query }>(
    '/api/v1/cameras/:id/stream.mjpeg',
    { schema: { querystring: StreamQuery } },
    async (request, reply) => {
      const id = request.params.id;
      const stream = streamOf(id);
      const o = optionsOf(request.query);
      const fps = Math.min(request.query.fps ?? opts.streamFps, opts.streamMaxFps);
      const periodMs = 1000 / fps;
      let counts = mjpeg.get(id);
      if (!counts) mjpeg.set(id, (counts = { sent: 0, skipped: 0 }));
      const c = counts;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
        'cache-control': 'no-store',
        connection: 'close',
        'x-accel-buffering': 'no',
      });
      let ended = false;
      let timer: NodeJS.Timeout | undefined;
      const end = (): void => {
        if (ended) return;
        ended = true;
        open.delete(end);
        clearTimeout(timer);
        res.end();
      };
      open.add(end);
      res.on('close', end);
      void stream.whenEnded().then(end);
      const tick = async (): Promise<void> => {
        if (ended) return;
        const started = performance.now();
        try {
          const snap = await snapshotOf(stream, o, false);
          if (ended) return;
          if (res.writableNeedDrain) {
            c.skipped++; // the reader has not taken the last part yet: this one is not queued for it
          } else {
            res.write(
              `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${snap.jpeg.length}\r\n` +
                `X-Camtrack-Frame-Index: ${snap.frameIndex}\r\nX-Camtrack-Pts-Ms: ${snap.ptsMs}\r\n\r\n`,
            );
            res.write(snap.jpeg);
            res.write('\r\n');
            c.sent++;
          }
        } catch (err) {
          if ((err as CamtrackError).code !== 'ERR_CAMTRACK_SNAPSHOT_TIMEOUT') {
            request.log.debug({ err, camera: id }, 'stream.mjpeg ends');
            return end();
          }
          // No frame for a while (reconnecting): keep the reader and try again.
        }
        if (!ended) timer = setTimeout(() => void tick(), Math.max(0, periodMs - (performance.now() - started)));
      };
      void tick();
    },
  );
};

export default images;
