/**
 * Loads camtrack's .proto files (shipped in the package under proto/, docs/grpc.md) with @grpc/proto-loader.
 * keepCase: true, so the field names are the wire format's snake_case names (src/wire/schema.ts); 64-bit integers
 * as JS numbers (frame ids stay below 2^53); enums as their names; unset `optional` fields stay absent.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** proto/ of the package (src/server/grpc and dist/server/grpc are both three levels below the root). */
export const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));
export const VISION_PROTO = 'camtrack/v1/vision.proto';
export const ANALYTICS_PROTO = 'camtrack/v1/analytics.proto';
export const HEALTH_PROTO = 'grpc/health/v1/health.proto';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

/** The package definition of the services (vision, analytics and health). */
export function loadPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([VISION_PROTO, ANALYTICS_PROTO, HEALTH_PROTO], LOADER_OPTIONS);
}

interface ServiceCtor {
  new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions): grpc.Client;
  service: grpc.ServiceDefinition;
}

/** The loaded services: their definitions (server side) and client constructors (clients, tests). */
export function loadServices(): { VisionCoreService: ServiceCtor; AnalyticsService: ServiceCtor; Health: ServiceCtor } {
  const root = grpc.loadPackageDefinition(loadPackageDefinition()) as unknown as {
    camtrack: { v1: { VisionCoreService: ServiceCtor; AnalyticsService: ServiceCtor } };
    grpc: { health: { v1: { Health: ServiceCtor } } };
  };
  return { VisionCoreService: root.camtrack.v1.VisionCoreService, AnalyticsService: root.camtrack.v1.AnalyticsService, Health: root.grpc.health.v1.Health };
}
