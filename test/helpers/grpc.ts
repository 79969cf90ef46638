/** A real @grpc/grpc-js client of camtrack's services (proto/ through src/server/grpc/proto.ts), for the e2e tests. */
import * as grpc from '@grpc/grpc-js';
import { loadServices } from '../../src/server/grpc/proto.js';

export interface GrpcClients {
  vision: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  health: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  analytics: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  close(): void;
}

export function grpcClients(port: number, credentials = grpc.credentials.createInsecure()): GrpcClients {
  const { VisionCoreService, AnalyticsService, Health } = loadServices();
  const vision = new VisionCoreService(`127.0.0.1:${port}`, credentials) as GrpcClients['vision'];
  const health = new Health(`127.0.0.1:${port}`, credentials) as GrpcClients['health'];
  const analytics = new AnalyticsService(`127.0.0.1:${port}`, credentials) as GrpcClients['analytics'];
  return { vision, health, analytics, close: () => (vision.close(), health.close(), analytics.close()) };
}

export interface UnaryOutcome<T> {
  value?: T;
  error?: grpc.ServiceError;
}

/** Calls a unary method and resolves with its value or its error (never rejects). */
export function unary<T>(client: GrpcClients['vision'], method: string, request: object, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<UnaryOutcome<T>> {
  return new Promise((resolve) => {
    (client[method] as (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v?: T) => void) => void).call(
      client,
      request,
      metadata,
      options,
      (error, value) => resolve(error ? { error } : { value: value as T }),
    );
  });
}

export function bearer(token: string): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
}
