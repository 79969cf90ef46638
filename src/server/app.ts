/**
 * buildServer(): the `camtrack serve` service (docs/serve.md) on fastify 5: pino logs with secrets redacted,
 * @fastify/websocket (registered here, once, for every plugin), token auth (src/server/auth.ts), one plugin per
 * resource under src/server/routes/, each given the {@link ServerContext} as its options.
 *
 *   const { app, context, close } = await buildServer({ config: { model: 'yolo11n.onnx', serve: { port: 0 } } });
 *   await app.inject({ method: 'GET', url: '/health/ready' });
 *   await close();
 *
 * Start: the config is validated (ConfigError before anything starts), a non-loopback host without a token is
 * refused (InsecureBindError), the model files are read (readiness), the server listens, and then the cameras of the
 * config file and the stored REST cameras start in the background (`context.booted`): /health/live answers at once,
 * /health/ready once the models are loaded.
 *
 * Shutdown (close(), and SIGTERM/SIGINT in the CLI), in this order, as fastify's onClose hooks run (plugins registered
 * later close first; the root's hooks last):
 *   1. fastify stops accepting connections and closes idle keep-alive ones (forceCloseConnections: 'idle'); any
 *      connection still open 2 s later is destroyed;
 *   2. preClose hooks (before fastify waits for open requests): routes/results.ts ends every SSE and WebSocket
 *      reader, the websocket plugin closes the sockets still open; the sessions plugin drains its sessions; then the
 *      plugins' onClose hooks;
 *   3. the root hook: the result feed stops listening, the Redis worker/client stops, and the camera registry closes
 *      every pipeline (results in flight are delivered first).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify';
import type { Redis } from 'ioredis';

import { CameraRegistry, type CameraEvent } from '../cameras/registry.js';
import { normaliseRegistryConfig, type CameraRegistryConfig, type NormalisedRegistryConfig } from '../config.js';
import { CamtrackError, ConfigError, redactSecretsIn } from '../errors.js';
import { createRedisClient, connectOnce, redisEndpoint } from '../redis/client.js';
import { LatestAnalytics } from '../sinks/analytics-latest.js';
import { AnalyticsCountStore } from '../sinks/analytics-store.js';
import { AnalyticsOutputs } from '../sinks/outputs.js';
import { RedisWorker } from '../sources/worker.js';
import { toWireError } from '../wire/index.js';
import { InsecureBindError, installAuth, isLoopbackHost, redactQuery } from './auth.js';
import { FileCameraStore, RedisCameraStore, type CameraStore } from './camera-store.js';
import { errorBody, sendError, statusOf, type ServerContext } from './context.js';
import { ManagedCameras } from './managed-cameras.js';
import { createMetrics } from './prometheus.js';
import { checkReadiness, ModelBoard } from './readiness.js';
import { ResultFeed } from './result-feed.js';
import camerasRoutes from './routes/cameras.js';
import healthRoutes from './routes/health.js';
import metricsRoutes from './routes/metrics.js';
import dashboardRoutes from './routes/dashboard.js';
import imagesRoutes from './routes/images.js';
import resultsRoutes from './routes/results.js';
import sessionRoutes from './routes/sessions.js';
import { registerGrpcMetrics } from './grpc/metrics.js';
import { startGrpcServer, type RunningGrpcServer } from './grpc/server.js';
import { resolveSessionLimits, sessionWebSocketMaxPayload, type SessionLimits } from './sessions/table.js';

export type { ServerContext } from './context.js';

/** Options of {@link buildServer}. */
export interface BuildServerOptions {
  /** The config (file, environment and flags already merged; its `serve` section included). */
  config: CameraRegistryConfig;
  /** The config file it came from: the default state file is next to it (`<file>.cameras.json`). */
  configFile?: string;
  /** pino options: level (default 'info'), and a destination stream (default stdout). false: no logs. */
  logger?: { level?: string; stream?: NodeJS.WritableStream } | false;
  /** Listen (default true); false: only app.inject(). */
  listen?: boolean;
  /**
   * More route plugins (the sessions, the dashboard, …), registered after the built-in ones with the ServerContext as
   * their options; the token hook covers their routes and WebSocket upgrades like the others'.
   */
  plugins?: FastifyPluginAsync<ServerContext>[];
}

export interface BuiltServer {
  app: FastifyInstance;
  context: ServerContext & { booted: Promise<void> };
  /** The URL it listens on (http:// or https://, with the port it got), when listening. */
  url: string | undefined;
  /** The gRPC server (serve.grpc, `--grpc-port`; docs/grpc.md), when configured and listening. */
  grpc: RunningGrpcServer | undefined;
  /** Graceful shutdown (idempotent): see the file header. */
  close(): Promise<void>;
}

/** How long close() lets open connections finish before it destroys them, ms. */
const CLOSE_GRACE_MS = 2000;

/** The paths pino censors in every log line (the request serializer below leaves headers out anyway). */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["sec-websocket-protocol"]', 'res.headers["set-cookie"]'];

function loggerOptions(o: BuildServerOptions['logger']): FastifyServerOptions['logger'] {
  if (o === false) return false;
  return {
    level: o?.level ?? 'info',
    ...(o?.stream ? { stream: o.stream } : {}),
    redact: { paths: REDACT, censor: '***' },
    serializers: {
      // The URL with its token query parameter and any URL credentials in it redacted; no headers.
      req: (req: { method?: string; url?: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
        method: req.method,
        url: redactSecretsIn(redactQuery(req.url ?? '')),
        remoteAddress: req.ip ?? req.socket?.remoteAddress,
      }),
      err: (err: Error & { code?: string }) => ({
        type: err?.name,
        code: err?.code,
        message: redactSecretsIn(redactQuery(String(err?.message ?? err))),
      }),
    },
  } as unknown as FastifyServerOptions['logger'];
}

/** The state file's default place: next to the config file, or in the working directory. */
export function defaultStateFile(configFile: string | undefined): string {
  return configFile ? `${path.resolve(configFile)}.cameras.json` : path.resolve('camtrack-serve.cameras.json');
}

export async function buildServer(options: BuildServerOptions): Promise<BuiltServer> {
  const config: NormalisedRegistryConfig = normaliseRegistryConfig(options.config);
  const serve = config.serve;
  if (!isLoopbackHost(serve.host) && serve.token === undefined) throw new InsecureBindError(serve.host);
  if (serve.grpc?.host !== undefined && !isLoopbackHost(serve.grpc.host) && serve.token === undefined) throw new InsecureBindError(serve.grpc.host);
  if ((serve.tlsCert === undefined) !== (serve.tlsKey === undefined)) {
    throw new CamtrackError('TLS needs both a certificate and its key', 'ERR_CAMTRACK_INVALID_ARGUMENT', {
      stage: 'serve',
      hint: 'give both --tls-cert and --tls-key (serve.tlsCert and serve.tlsKey)',
    });
  }
  if (serve.sessions.model !== undefined && !(serve.sessions.model in config.models)) {
    throw new ConfigError('serve.sessions.model', `Unknown model ${JSON.stringify(serve.sessions.model)}; the config has ${Object.keys(config.models).join(', ')}`);
  }
  const https = serve.tlsCert !== undefined ? { cert: await readTls(serve.tlsCert), key: await readTls(serve.tlsKey!) } : null;

  // Redis (--redis): readiness pings it and the REST camera list lives there.
  let redis: Redis | undefined;
  if (config.redis) {
    const endpoint = redisEndpoint(config.redis.url);
    redis = createRedisClient(endpoint, { name: 'camtrack:serve', connectTimeoutMs: config.redis.connectTimeoutMs, commandTimeoutMs: config.redis.commandTimeoutMs });
    redis.on('error', () => {}); // reconnects by itself; readiness reports it
    await connectOnce(redis, endpoint);
  }
  const store: CameraStore = redis
    ? new RedisCameraStore(redis, 'camtrack:serve:cameras', redisEndpoint(config.redis!.url).shown)
    : new FileCameraStore(serve.stateFile ?? defaultStateFile(options.configFile));

  const { streams: bootStreams = [], serve: _serve, redis: _redis, ...registryConfig } = options.config;
  // A `streams` entry with `input: 'push'` whose id is a Redis camera (redis.input.cameras) holds that camera's own
  // options (analytics, tracker, thresholds, …), as in `camtrack worker`'s config: it goes to the Redis worker, and the
  // service does not start it as one of its own cameras.
  const redisIds = new Set(config.redis?.input?.cameras ?? []);
  const isRedisCamera = (s: { id?: unknown; input?: unknown }): boolean => s.input === 'push' && typeof s.id === 'string' && redisIds.has(s.id);
  const redisStreams = (bootStreams as { id?: unknown; input?: unknown }[]).filter(isRedisCamera);
  let cameras: CameraRegistry;
  try {
    cameras = await CameraRegistry.create({ ...registryConfig, streams: [] });
  } catch (err) {
    redis?.disconnect();
    throw err;
  }
  // --redis with cameras to read (redis.input.cameras or discover): the service also works them as `camtrack worker`
  // does (src/sources/worker.ts: same consumer groups, leases, acknowledgement after the write), on its own pipelines.
  let worker: RedisWorker | undefined;
  const input = config.redis?.input;
  if (input && (input.cameras.length > 0 || input.discover)) {
    try {
      worker = await RedisWorker.create({ redis: config.redis!, processor: { ...registryConfig, streams: redisStreams as never } });
      await worker.start();
    } catch (err) {
      await worker?.stop(0);
      await cameras.close();
      redis?.disconnect();
      throw err;
    }
  }
  const app = Fastify({
    logger: loggerOptions(options.logger),
    bodyLimit: serve.bodyLimitBytes,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ...(https ? { https } : {}),
  } as FastifyServerOptions) as unknown as FastifyInstance;

  const board = new ModelBoard(cameras);
  const feed = new ResultFeed(cameras);
  const analytics = new LatestAnalytics(cameras);
  // --redis: the cameras' cumulative analytics counts are kept there (redis.counts; src/sinks/analytics-store.ts).
  let counts: AnalyticsCountStore | undefined;
  if (config.redis?.counts.enabled) {
    try {
      counts = await AnalyticsCountStore.create(config.redis, analytics);
    } catch (err) {
      await worker?.stop(0);
      await cameras.close();
      redis?.disconnect();
      throw err;
    }
    counts.attach(cameras);
  }
  const ownCameras = redisStreams.length > 0 ? { ...config, cameras: config.cameras.filter((c) => !isRedisCamera(c.options as never)) } : config;
  const managed = new ManagedCameras(cameras, ownCameras, board, store, app.log);
  // The Redis worker's cameras are listed (GET /api/v1/cameras, source 'redis'), measured (/metrics) and have
  // snapshots like the service's own; REST cannot change or remove them (409).
  managed.attachRedisCameras(worker?.registry);
  const context: ServerContext & { booted: Promise<void> } = {
    cameras,
    managed,
    config,
    metrics: createMetrics(cameras, feed, board, analytics, () => worker?.registry),
    analytics,
    models: board,
    feed,
    log: app.log,
    readiness: () => checkReadiness(cameras.models, board, redis ? () => redis.ping() : undefined),
    booted: Promise.resolve(),
  };

  // Responses are plain JSON: route schemas document them (and validate requests), they do not shape them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Camera warnings and errors (reconnect attempts, a camera that gave up): logged through the wire's error object,
  // whose message and hint are redacted.
  cameras.on('event', (e: CameraEvent) => {
    // The inference circuit breaker: one line per transition (readiness and /metrics follow it too).
    if (e.type === 'breaker') {
      const { from, to, reason, message } = e.breaker;
      app.log[to === 'closed' ? 'info' : 'warn']({ model: e.model, from, to, reason }, `inference breaker ${from} -> ${to} (${reason}): ${message}`);
      return;
    }
    if (e.type !== 'warning' && e.type !== 'error') return;
    app.log.warn({ camera: e.cameraId, model: e.model, error: toWireError(e.error) }, `camera ${e.type}`);
  });
  // Analytics events of the service's cameras to webhooks / MQTT (outputs; none by default). The Redis cameras' go
  // through the worker's own (src/sources/worker.ts).
  const outputs = new AnalyticsOutputs(config.outputs, (err: CamtrackError) => app.log.warn({ err, code: err.code }, 'analytics output warning'));
  outputs.attach(cameras);
  counts?.on('warning', (err: CamtrackError) => app.log.warn({ err, code: err.code }, 'analytics counts warning'));
  if (worker) {
    worker.on('warning', (err: CamtrackError) => app.log.warn({ err, code: err.code }, 'redis worker warning'));
    worker.on('event', (e: { type: string; cameraId: string | null; error?: CamtrackError }) => {
      if (e.type === 'error' || e.type === 'warning') app.log.warn({ camera: e.cameraId, code: e.error?.code, err: e.error }, `redis camera ${e.type}`);
    });
  }
  app.setErrorHandler((err, request, reply) => {
    if (statusOf(err) >= 500) request.log.error({ err }, 'request failed');
    return reply.code(statusOf(err)).send(errorBody(err));
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new CamtrackError(`no route ${request.method} ${redactQuery(request.url.split('?')[0]!)}`, 'ERR_CAMTRACK_NOT_FOUND', { stage: 'http' })),
  );
  // Before any route: the hook then covers every route, also those plugins register later, and WebSocket upgrades.
  installAuth(app, serve.token);
  // The sessions' limits (serve.sessions) without its two switches; the WebSocket message limit is the larger of the
  // body limit and what a session frame of maxFrameBytes needs (base64 in JSON), so a frame somewhat over it gets an
  // error message on an open socket (docs/sessions.md).
  const { enabled: sessionsEnabled, model: sessionModel, ...sessionLimits } = serve.sessions;
  const limits: SessionLimits = sessionLimits;
  await app.register(websocket, {
    options: { maxPayload: sessionsEnabled ? Math.max(serve.bodyLimitBytes, sessionWebSocketMaxPayload(limits)) : serve.bodyLimitBytes },
  });
  // The root's onClose hook runs after the plugins' (step 3 of the shutdown order above).
  app.addHook('onClose', async () => {
    feed.close();
    if (worker) await worker.stop(config.redis!.closeTimeoutMs);
    await cameras.close();
    await counts?.close();
    await outputs.close(CLOSE_GRACE_MS);
    analytics.close();
    if (redis) await redis.quit().catch(() => redis!.disconnect());
  });
  // Step 1½ of the shutdown: connections still open a while after close() began (a client that keeps a refused
  // upgrade's socket, a reader that does not answer the close handshake) are destroyed, so that close() ends.
  const sockets = new Set<import('node:net').Socket>();
  app.server.on('connection', (socket: import('node:net').Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  app.server.on('secureConnection', (socket: import('node:net').Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  app.addHook('preClose', async () => {
    setTimeout(() => {
      for (const socket of sockets) socket.destroy();
    }, CLOSE_GRACE_MS).unref();
  });
  await app.register(healthRoutes, context);
  await app.register(metricsRoutes, context);
  await app.register(camerasRoutes, context);
  await app.register(resultsRoutes, context);
  await app.register(imagesRoutes, context);
  await app.register(dashboardRoutes, context);
  if (sessionsEnabled) await app.register(sessionRoutes, { registry: cameras, ...(sessionModel !== undefined ? { model: sessionModel } : {}), limits });
  for (const plugin of options.plugins ?? []) await app.register(plugin, context);

  // Model files checked before listening, so that readiness never says "checking" to a probe.
  await board.checkFiles(Object.fromEntries(Object.entries(config.models).map(([n, m]) => [n, m.path])));
  let url: string | undefined;
  try {
    if (options.listen !== false) url = await app.listen({ host: serve.host, port: serve.port });
    else await app.ready();
  } catch (err) {
    await app.close();
    throw err;
  }
  // gRPC (docs/grpc.md): its own port, the same token, TLS files, registry, session limits and readiness rule.
  let grpcServer: RunningGrpcServer | undefined;
  if (serve.grpc !== undefined && options.listen !== false) {
    try {
      grpcServer = await startGrpcServer({
        host: serve.grpc.host ?? serve.host,
        port: serve.grpc.port,
        token: serve.token,
        tls: https,
        registry: cameras,
        limits: resolveSessionLimits(limits),
        model: sessionModel,
        readiness: context.readiness,
        analytics: context.analytics,
        cameras: { cameraIdleMs: serve.grpc.cameraIdleSeconds * 1000, maxCameras: serve.grpc.maxCameras },
      });
      const vision = grpcServer.vision;
      registerGrpcMetrics(context.metrics, vision.counters, { activeCameras: () => vision.activeStreams, streamResultsQueued: () => vision.streamResultsQueued });
    } catch (err) {
      await app.close();
      throw new CamtrackError(`cannot listen for gRPC on ${serve.grpc.host ?? serve.host}:${serve.grpc.port}: ${(err as Error).message}`, 'ERR_CAMTRACK_INVALID_ARGUMENT', {
        stage: 'serve',
        hint: 'choose a free --grpc-port (serve.grpc.port)',
        cause: err,
      });
    }
  }
  context.booted = managed.boot();
  let closing: Promise<void> | undefined;
  return {
    app,
    context,
    url,
    grpc: grpcServer,
    close: () => (closing ??= (async () => {
      await context.booted.catch(() => {});
      await grpcServer?.close();
      await app.close();
    })()),
  };
}

async function readTls(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new CamtrackError(`cannot read TLS file ${file}: ${(err as Error).message}`, 'ERR_CAMTRACK_INVALID_ARGUMENT', {
      stage: 'serve',
      hint: '--tls-cert and --tls-key take PEM files (serve.tlsCert, serve.tlsKey)',
      cause: err,
    });
  }
}
