/**
 * The gRPC service's counters on serve's /metrics (prom-client, read at scrape time): the same numbers
 * GetEngineMetrics answers, as camtrack_grpc_*_total.
 */
import { Counter, type Registry } from 'prom-client';
import type { GrpcCounters } from './vision.js';

const HELP: Record<keyof GrpcCounters, string> = {
  frames_received: 'Frames received by the gRPC service (ProcessFrame, ProcessFrameBatch, ProcessCameraStream).',
  results_sent: 'Results the gRPC service answered with.',
  deadline_exceeded_dropped: 'gRPC frames dropped before inference because the call deadline had passed.',
  stream_results_dropped: 'ProcessCameraStream results dropped for a reader slower than its camera (newest kept).',
  errors: 'gRPC calls that ended with an error status.',
};

export function registerGrpcMetrics(registry: Registry, counters: GrpcCounters): void {
  for (const k of Object.keys(HELP) as (keyof GrpcCounters)[]) {
    new Counter({
      name: `camtrack_grpc_${k}_total`,
      help: HELP[k],
      registers: [registry],
      collect() {
        this.reset();
        this.inc(counters[k]);
      },
    });
  }
}
