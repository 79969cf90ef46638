/**
 * What every route plugin of `camtrack serve` gets as its options: the service's parts, built once by buildServer()
 * (src/server/app.ts). The sessions plugin (routes/sessions.ts), the gRPC service and the dashboard take the same.
 */
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';

import type { CameraRegistry } from '../cameras/registry.js';
import type { NormalisedRegistryConfig } from '../config.js';
import { CamtrackError, ConfigError } from '../errors.js';
import { toWireError, type WireError } from '../wire/index.js';
import type { LatestAnalytics } from '../sinks/analytics-latest.js';
import type { ManagedCameras } from './managed-cameras.js';
import type { ModelBoard, ReadinessCheck } from './readiness.js';
import type { ResultFeed } from './result-feed.js';

export interface ServerContext {
  /** Every camera of the process, one pipeline per model. */
  cameras: CameraRegistry;
  /** The cameras the REST API manages (config + REST-added, persisted), over `cameras`. */
  managed: ManagedCameras;
  /** The config, validated, with the `serve` section as the flags and environment made it. */
  config: NormalisedRegistryConfig;
  /** The prom-client registry GET /metrics serialises; plugins may register their own camtrack_* metrics on it. */
  metrics: Registry;
  /** The readiness rule (src/server/readiness.ts). */
  readiness: ReadinessCheck;
  /** Each model's state (loading, loaded, failed, …). */
  models: ModelBoard;
  /** Every camera's newest analytics: cumulative line counts, zone occupancy (GET/DELETE …/analytics, /metrics). */
  analytics: LatestAnalytics;
  /** Results and events of managed cameras for SSE/WebSocket readers. */
  feed: ResultFeed;
  /** The service's logger (pino, secrets redacted). */
  log: FastifyBaseLogger;
}

/** The error body every route answers with: `{ error: { code, message, hint, stage, native_code, path } }`. */
export interface ErrorBody {
  error: WireError & { path: string | null };
}

/** HTTP status of an error a route threw. */
export function statusOf(err: unknown): number {
  const e = err as Partial<FastifyError> & { code?: string };
  switch (e?.code) {
    case 'ERR_CAMTRACK_INVALID_CONFIG':
    case 'ERR_CAMTRACK_INVALID_ARGUMENT':
    case 'ERR_CAMTRACK_BAD_REQUEST':
      return 400;
    case 'ERR_CAMTRACK_UNAUTHORIZED':
      return 401;
    case 'ERR_CAMTRACK_NOT_FOUND':
      return 404;
    case 'ERR_CAMTRACK_CONFLICT':
    case 'ERR_CAMTRACK_INVALID_STATE':
      return 409;
    case 'ERR_CAMTRACK_RATE_LIMITED':
      return 429;
    case 'ERR_CAMTRACK_SNAPSHOT_TIMEOUT':
    case 'ERR_CAMTRACK_MODEL':
    case 'ERR_CAMTRACK_BACKEND':
    case 'ERR_CAMTRACK_NATIVE_LOAD':
      return 503;
  }
  const s = e?.statusCode;
  return typeof s === 'number' && s >= 400 && s < 600 ? s : 500;
}

/** The error body of `err` (a fastify error, such as bad JSON or a body too large, becomes ERR_CAMTRACK_BAD_REQUEST). */
export function errorBody(err: unknown): ErrorBody {
  if (err instanceof CamtrackError) {
    return { error: { ...toWireError(err), path: err instanceof ConfigError ? err.path : ((err as { path?: string }).path ?? null) } };
  }
  const e = err as FastifyError;
  const status = statusOf(err);
  const camtrack = new CamtrackError(String(e?.message ?? err), status < 500 ? 'ERR_CAMTRACK_BAD_REQUEST' : 'ERR_CAMTRACK_INTERNAL', {
    stage: 'http',
    ...(e?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? { hint: 'send a JSON body with Content-Type: application/json' } : {}),
    ...(e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? { hint: 'the body is larger than serve.bodyLimitBytes' } : {}),
  });
  return { error: { ...toWireError(camtrack), path: null } };
}

/** Sends `err` as an error body with its status. */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  return reply.code(statusOf(err)).send(errorBody(err));
}

export type { FastifyRequest };
