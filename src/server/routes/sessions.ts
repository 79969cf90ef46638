/**
 * Detection sessions of `camtrack serve` (issue 12; docs/sessions.md): one fastify plugin with the WebSocket route
 * `/stream/detection` and the REST + SSE routes under `/stream/`. Each session is a pushed camera
 * `session-<client_id>` on `opts.registry` (model `opts.model`); src/server/sessions/ holds the session table, the
 * session (rate limit, bounded outbox, accounting) and its two connection kinds.
 *
 * The plugin does not register @fastify/websocket: the app does, once, with a `maxPayload` of at least
 * sessionMaxMessageBytes(limits), best sessionWebSocketMaxPayload(limits) (twice that): a WebSocket message over
 * maxPayload is closed by ws with 1009 before any route sees it, one between the two gets an error message:
 *
 *   await app.register(fastifyWebsocket, { options: { maxPayload: sessionWebSocketMaxPayload(limits) } });
 *   await app.register(sessionRoutes, { registry, model: 'default', limits });
 *
 * Errors of these routes are answered with the session error message (src/wire/session.ts: `error`, `error_code`,
 * `hint`, `frame_id`, `timestamp`, plus `type: 'error'`) and a status from the code. Closing the app closes every
 * session and removes its camera (the registry stays open: it is the app's).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/websocket';

import type { CameraRegistry } from '../../cameras/registry.js';
import { CamtrackError, ConfigError, type CamtrackErrorCode } from '../../errors.js';
import { isObject } from '../../validate.js';
import { toWireSessionError } from '../../wire/session.js';
import { messageBytes, sseWriter, webSocketWriter } from '../sessions/connections.js';
import { badFrame, checkFrameId, checkImage, checkJsonFrame, frameIdOf, type SessionCodec } from '../sessions/frames.js';
import { onSessionMessage } from '../sessions/messages.js';
import type { Session } from '../sessions/session.js';
import { SessionTable, sessionMaxMessageBytes, sessionWebSocketMaxPayload, type SessionLimits } from '../sessions/table.js';
import { sessionsSummary } from '../sessions/summary.js';

export interface SessionPluginOptions {
  registry: CameraRegistry;
  /** The registry's model the sessions run on (a key of its `models`); default: the registry's default model. */
  model?: string;
  limits?: SessionLimits;
}

const STATUS: Partial<Record<CamtrackErrorCode, number>> = {
  ERR_CAMTRACK_BAD_FRAME: 400,
  ERR_CAMTRACK_INVALID_CONFIG: 400,
  ERR_CAMTRACK_INVALID_ARGUMENT: 400,
  ERR_CAMTRACK_SESSION_NOT_FOUND: 404,
  ERR_CAMTRACK_INVALID_STATE: 409,
  ERR_CAMTRACK_SESSION_LIMIT: 503,
};

type IdParams = { Params: { client_id: string } };

/** Query values arrive as text: numbers and booleans of the live options converted (others left for the check to name). */
function configFromQuery(query: unknown): Record<string, unknown> {
  const q = isObject(query) ? query : {};
  const out: Record<string, unknown> = {};
  for (const k of ['fps_limit', 'confidence_threshold']) {
    const v = q[k];
    if (typeof v === 'string') out[k] = v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  const t = q.enable_tracking;
  if (typeof t === 'string') out.enable_tracking = t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : t;
  return out;
}

function codecOf(value: unknown, path: string): SessionCodec | undefined {
  if (value === undefined) return undefined;
  if (value === 'jpeg' || value === 'png') return value;
  throw new ConfigError(path, `Expected 'jpeg' or 'png' but received ${JSON.stringify(value)}`.slice(0, 200));
}

export default async function sessionRoutes(app: FastifyInstance, opts: SessionPluginOptions): Promise<void> {
  const table = new SessionTable(opts.registry, opts.model, opts.limits);
  const { limits } = table;
  const maxMessageBytes = sessionMaxMessageBytes(limits);
  const base = app.prefix;
  /** WebSocket sessions opened before the upgrade (preValidation), taken by the handler. */
  const opened = new WeakMap<FastifyRequest, Session>();

  app.addHook('onClose', async () => table.close());

  app.setErrorHandler((err: FastifyError | CamtrackError, request, reply) => {
    let e: CamtrackError;
    let status: number;
    const isProcess = request.routeOptions.url?.endsWith('/stream/process/:client_id') ?? false;
    if (err instanceof CamtrackError) {
      e = err;
      status = STATUS[err.code] ?? 500;
    } else {
      // fastify's own: a body over bodyLimit (413), an unsupported content type (415), bad JSON (400), …
      status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
      const code: CamtrackErrorCode = status >= 500 ? 'ERR_CAMTRACK_INTERNAL' : isProcess ? 'ERR_CAMTRACK_BAD_FRAME' : 'ERR_CAMTRACK_INVALID_ARGUMENT';
      const hint =
        status === 413
          ? `send at most ${limits.maxFrameBytes} bytes of image (base64 in JSON: about 4/3 of that)`
          : status === 415
            ? 'send application/json ({ image_data, frame_id, timestamp, metadata }), image/jpeg or image/png'
            : 'send a JSON object';
      e = new CamtrackError(err.message, code, { hint });
      if (isProcess && status < 500) {
        const client = (request.params as { client_id?: string } | undefined)?.client_id;
        if (client !== undefined) table.get(client)?.countInvalidFrame();
      }
    }
    if (status >= 500) request.log.error({ err }, 'session route failed');
    void reply.code(status).send(toWireSessionError(e, isProcess ? frameIdOf(request.body) : null));
  });

  // Raw image bodies of POST /stream/process (JSON uses the app's parser); plugin-scoped.
  app.addContentTypeParser(['image/jpeg', 'image/png', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: limits.maxFrameBytes }, (_req, body, done) =>
    done(null, body),
  );

  // ---- WebSocket -------------------------------------------------------------------------------------------------
  app.get(
    '/stream/detection',
    {
      websocket: true,
      // Before the upgrade: a bad query or the session cap is an HTTP error, not an opened-then-closed socket.
      preValidation: async (request) => {
        const q = isObject(request.query) ? request.query : {};
        const codec = codecOf(q.codec, 'query.codec');
        opened.set(request, await table.create({ transport: 'websocket', config: configFromQuery(q), configPath: 'query', ...(codec ? { codec } : {}) }));
      },
    },
    (socket, request) => {
      const session = opened.get(request);
      opened.delete(request);
      if (!session) {
        socket.close(1011, 'no session');
        return;
      }
      const writer = webSocketWriter(socket, session);
      socket.on('message', (data, isBinary) => onSessionMessage(session, messageBytes(data), isBinary, limits.maxFrameBytes, maxMessageBytes));
      socket.on('error', (err) => request.log.debug({ err }, 'session websocket error'));
      socket.on('close', () => {
        session.detach(writer);
        void table.remove(session.clientId, 'client disconnected');
      });
      session.attach(writer);
      session.send(session.greeting());
    },
  );

  // ---- REST + SSE ------------------------------------------------------------------------------------------------
  app.post('/stream/sessions', async (request, reply) => {
    const body: Record<string, unknown> = isObject(request.body) ? { ...request.body } : {};
    if (request.body !== undefined && request.body !== null && !isObject(request.body)) {
      throw new ConfigError('body', 'Expected object of session options (fps_limit, confidence_threshold, enable_tracking, codec)');
    }
    const codec = codecOf(body.codec, 'body.codec');
    delete body.codec;
    const session = await table.create({ transport: 'sse', config: body, configPath: 'body', ...(codec ? { codec } : {}) });
    const id = session.clientId;
    return reply.code(201).send({
      client_id: id,
      sse_endpoint: `${base}/stream/events/${id}`,
      upload_endpoint: `${base}/stream/process/${id}`,
      config: session.config,
    });
  });

  app.get<IdParams>('/stream/events/:client_id', async (request, reply) => {
    const session = table.require(request.params.client_id);
    const header = request.headers['last-event-id'];
    const last = typeof header === 'string' && /^\d+$/.test(header.trim()) ? Number(header.trim()) : undefined;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    res.write(`retry: 2000\n\n`);
    const writer = sseWriter(res, session, limits.keepAliveMs);
    if (!session.attach(writer, last)) res.write(`: events after ${last} are no longer held; resuming with the oldest held\n\n`);
  });

  app.post<IdParams>('/stream/process/:client_id', { bodyLimit: maxMessageBytes }, async (request, reply) => {
    const session = table.require(request.params.client_id);
    const body = request.body;
    let ack;
    if (Buffer.isBuffer(body)) {
      const q = isObject(request.query) ? request.query : {};
      const rawId = typeof q.frame_id === 'string' && /^\d+$/.test(q.frame_id) ? Number(q.frame_id) : q.frame_id;
      ack = session.receive(() => {
        const frameId = checkFrameId(rawId);
        checkImage(body, session.codec, limits.maxFrameBytes);
        return { bytes: body, frameId, metadata: undefined };
      });
    } else if (isObject(body)) {
      ack = session.receive(() => checkJsonFrame(body, session.codec, limits.maxFrameBytes));
    } else {
      session.countInvalidFrame();
      throw badFrame('Expected a JSON object { image_data, frame_id, timestamp, metadata } or an image body', 'see docs/sessions.md');
    }
    return reply.code(202).send({ client_id: session.clientId, ...ack });
  });

  app.get<IdParams>('/stream/sessions/:client_id/stats', async (request) => table.require(request.params.client_id).stats());

  app.patch<IdParams>('/stream/sessions/:client_id/config', async (request) => {
    const session = table.require(request.params.client_id);
    const body = isObject(request.body) && isObject(request.body.config) ? request.body.config : request.body;
    return { client_id: session.clientId, config: session.configure(body, 'body') };
  });

  app.delete<IdParams>('/stream/sessions/:client_id', async (request, reply) => {
    const id = request.params.client_id;
    table.require(id);
    await table.remove(id);
    return reply.code(204).send();
  });

  app.get('/stream/health', async (_request, reply) => {
    const ok = !opts.registry.closed;
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'closed', sessions: table.size, max_sessions: limits.maxSessions });
  });

  app.get('/stream/stats', async () => sessionsSummary(table));
}

export { sessionMaxMessageBytes, sessionWebSocketMaxPayload, type SessionLimits };
