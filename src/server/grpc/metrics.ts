/**
 * The gRPC service's counters on serve's /metrics (prom-client, read at scrape time): the same numbers
 * GetEngineMetrics answers, as camtrack_grpc_*_total, and two gauges (cameras, stream_results_queued).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { GrpcCounters } from './vision.js';

const HELP: Record<keyof GrpcCounters, string> = {
  frames_received: 'Frames received by the gRPC service (ProcessFrame, ProcessFrameBatch, ProcessCameraStream).',
  results_sent: 'Results the gRPC service answered with.',
  deadline_exceeded_dropped: 'gRPC frames dropped before inference because the call deadline had passed.',
  stream_results_dropped: 'ProcessCameraStream results dropped for a reader slower than its camera (newest kept).',
  errors: 'gRPC calls that ended with an error status.',
  frames_dropped: 'ProcessFrame/ProcessFrameBatch frames dropped by their live camera (a later frame was answered first); the call failed RESOURCE_EXHAUSTED.',
  cameras_created: 'ProcessFrame/ProcessFrameBatch cameras created (a camera id seen first, or again after it expired).',
  cameras_expired: 'ProcessFrame/ProcessFrameBatch cameras removed after serve.grpc.cameraIdleSeconds without a call.',
  cameras_refused: 'gRPC cameras refused because serve.grpc.maxCameras existed (RESOURCE_EXHAUSTED).',
};

export function registerGrpcMetrics(registry: Registry, counters: GrpcCounters, gauges?: { activeCameras(): number; streamResultsQueued(): number }): void {
  if (gauges) {
    new Gauge({
      name: 'camtrack_grpc_cameras',
      help: 'ProcessFrame/ProcessFrameBatch cameras that exist now (GetEngineMetrics active_streams).',
      registers: [registry],
      collect() {
        this.set(gauges.activeCameras());
      },
    });
    new Gauge({
      name: 'camtrack_grpc_stream_results_queued',
      help: 'ProcessCameraStream results waiting for their readers now (bounded per call; GetEngineMetrics stream_results_queued).',
      registers: [registry],
      collect() {
        this.set(gauges.streamResultsQueued());
      },
    });
  }
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
