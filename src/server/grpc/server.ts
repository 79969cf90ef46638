/**
 * The gRPC server of `camtrack serve --grpc-port N` (serve.grpc; docs/grpc.md): VisionCoreService, AnalyticsService
 * and grpc.health.v1.Health on their own port, on serve.grpc.host (default: serve.host). TLS with the service's
 * certificate and key when serve has them. Messages up to the sessions' maxFrameBytes per frame (a batch: 16 of
 * them) are received; larger ones fail RESOURCE_EXHAUSTED in grpc-js before any handler runs.
 */
import * as grpc from '@grpc/grpc-js';
import type { CameraRegistry } from '../../cameras/registry.js';
import type { ReadinessCheck } from '../readiness.js';
import type { ResolvedSessionLimits } from '../sessions/table.js';
import type { LatestAnalytics } from '../../sinks/analytics-latest.js';
import { analyticsHandlers } from './analytics.js';
import { healthHandlers } from './health.js';
import { loadServices } from './proto.js';
import { VisionService, type GrpcCameraLimits } from './vision.js';

export interface GrpcServerOptions {
  host: string;
  port: number;
  token: string | undefined;
  tls: { cert: Buffer; key: Buffer } | null;
  registry: CameraRegistry;
  limits: ResolvedSessionLimits;
  model: string | undefined;
  readiness: ReadinessCheck;
  /** The cameras' newest analytics (serve's context.analytics): AnalyticsService reads its counts. */
  analytics: LatestAnalytics;
  /** serve.grpc.cameraIdleSeconds (as ms) and serve.grpc.maxCameras. */
  cameras: GrpcCameraLimits;
  /** How often health Watch re-runs the readiness rule, ms. */
  healthWatchIntervalMs?: number;
}

/** Frames of one ProcessFrameBatch: its message limit is this many frames of maxFrameBytes. */
export const MAX_BATCH_FRAMES = 16;

export interface RunningGrpcServer {
  port: number;
  vision: VisionService;
  close(): Promise<void>;
}

export async function startGrpcServer(o: GrpcServerOptions): Promise<RunningGrpcServer> {
  const { VisionCoreService, AnalyticsService, Health } = loadServices();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': o.limits.maxFrameBytes * MAX_BATCH_FRAMES + 64 * 1024,
  });
  let closing = false;
  const vision = new VisionService(o.registry, o.limits, o.model, o.cameras);
  server.addService(VisionCoreService.service, vision.handlers(o.token, o.readiness));
  server.addService(AnalyticsService.service, analyticsHandlers(o.analytics, o.token, vision.counters, () => closing));
  server.addService(Health.service, healthHandlers(o.readiness, o.healthWatchIntervalMs ?? 1000, () => closing));
  const credentials = o.tls ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: o.tls.cert, private_key: o.tls.key }], false) : grpc.ServerCredentials.createInsecure();
  const address = o.host.includes(':') ? `[${o.host}]:${o.port}` : `${o.host}:${o.port}`;
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(address, credentials, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    vision,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        vision.close();
        const force = setTimeout(() => server.forceShutdown(), 2000).unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
