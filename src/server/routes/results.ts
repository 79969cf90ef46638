/**
 * Results of the managed cameras for other programs, in the wire format (docs/wire.md): result messages and the
 * cameras' state/warning/error events, one JSON message each.
 *   GET /api/v1/cameras/{id}/events      SSE: `data: <json>` per message; a `: keep-alive` comment every 15 s; the
 *                                        response ends after the camera's stream ends (its last state message)
 *   GET /api/v1/results?cameras=a,b      WebSocket: one text message per message; no `cameras`: every camera
 * Each reader has a bounded queue (serve.resultQueueSize) behind its socket's own buffer (src/server/result-feed.ts):
 * a slow reader gets the newest messages, the dropped ones counted (camtrack_result_messages_dropped_total). A reader
 * that goes away is removed when its socket closes; at shutdown (preClose) every reader is ended.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';

import type { CameraEvent } from '../../cameras/registry.js';
import { CamtrackError } from '../../errors.js';
import type { ServerContext } from '../context.js';
import { BoundedWriter } from '../result-feed.js';

/** Seconds between SSE keep-alive comments (proxies close connections silent for longer). */
const KEEP_ALIVE_MS = 15_000;

const results: FastifyPluginAsync<ServerContext> = async (app, ctx) => {
  const capacity = ctx.config.serve.resultQueueSize;
  /** Every open reader's way to end it (shutdown). */
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get<{ Params: { id: string } }>('/api/v1/cameras/:id/events', async (request, reply) => {
    const id = request.params.id;
    ctx.managed.view(id); // 404 for an unknown camera
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': camtrack results\n\n');
    const writer = new BoundedWriter(
      capacity,
      () => res.writableLength,
      (m) => void res.write(`data: ${m}\n\n`),
    );
    const remove = ctx.feed.add({ cameras: new Set([id]), writer });
    const keepAlive = setInterval(() => {
      if (res.writableLength === 0) res.write(': keep-alive\n\n');
    }, KEEP_ALIVE_MS);
    const onDrain = (): void => writer.flush();
    res.on('drain', onDrain);
    const end = (): void => {
      cleanup();
      res.end();
    };
    // The camera's stream ended (a file at its end, removed, failed): its last state message is out, the stream ends.
    const onEvent = (e: CameraEvent): void => {
      if (e.type !== 'end' || e.cameraId !== id) return;
      setImmediate(() => {
        writer.flush();
        end();
      });
    };
    ctx.cameras.on('event', onEvent);
    const cleanup = (): void => {
      clearInterval(keepAlive);
      res.off('drain', onDrain);
      ctx.cameras.off('event', onEvent);
      remove();
      open.delete(end);
    };
    open.add(end);
    res.on('close', cleanup);
  });

  app.get<{ Querystring: { cameras?: string } }>('/api/v1/results', { websocket: true }, (socket: WebSocket, request) => {
    const list = request.query.cameras;
    const cameras = typeof list === 'string' && list.trim() !== '' ? new Set(list.split(',').map((s) => s.trim()).filter(Boolean)) : null;
    const writer = new BoundedWriter(
      capacity,
      () => socket.bufferedAmount,
      (m) => socket.send(m),
    );
    const remove = ctx.feed.add({ cameras, writer });
    const end = (): void => socket.close(1001, 'server shutting down');
    open.add(end);
    socket.on('close', () => {
      remove();
      open.delete(end);
    });
    socket.on('message', () => {
      // Read-only: a client message is answered with an error message, the socket stays open.
      const err = new CamtrackError('this socket only sends results; it takes no messages', 'ERR_CAMTRACK_BAD_REQUEST', { stage: 'http' });
      socket.send(JSON.stringify({ type: 'error', error: err.message, error_code: err.code, timestamp: Date.now() / 1000 }));
    });
  });
};

export default results;
