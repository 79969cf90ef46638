/**
 * grpc.health.v1.Health (proto/grpc/health/v1/health.proto) following checkReadiness() (src/server/readiness.ts):
 * SERVING when ready, else NOT_SERVING, for the empty service name, `camtrack.v1.VisionCoreService` and
 * `camtrack.v1.AnalyticsService`; any other
 * name is NOT_FOUND (Check) or SERVICE_UNKNOWN (Watch). Watch sends the status at once and again whenever it changes;
 * it polls the readiness rule every `watchIntervalMs` (the service has no readiness event). No token needed.
 */
import * as grpc from '@grpc/grpc-js';
import type { ReadinessCheck } from '../readiness.js';

type Status = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
const KNOWN = new Set(['', 'camtrack.v1.VisionCoreService', 'camtrack.v1.AnalyticsService']);

export function healthHandlers(readiness: ReadinessCheck, watchIntervalMs: number, closing: () => boolean): grpc.UntypedServiceImplementation {
  const status = async (): Promise<Status> => {
    try {
      return (await readiness()).ready ? 'SERVING' : 'NOT_SERVING';
    } catch {
      return 'NOT_SERVING';
    }
  };
  return {
    Check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      if (!KNOWN.has(call.request.service)) {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service.slice(0, 100))}` });
        return;
      }
      void status().then((s) => callback(null, { status: s }));
    },
    Watch(call: grpc.ServerWritableStream<{ service: string }, unknown>) {
      if (!KNOWN.has(call.request.service)) {
        call.write({ status: 'SERVICE_UNKNOWN' });
        return; // the stream stays open until the client cancels, as the protocol says
      }
      let last: Status | undefined;
      let busy = false;
      const tick = async () => {
        if (busy || call.cancelled) return;
        busy = true;
        const s = await status();
        busy = false;
        if (s !== last && !call.cancelled) {
          last = s;
          call.write({ status: s });
        }
        if (closing()) stop();
      };
      const timer = setInterval(() => void tick(), watchIntervalMs);
      const stop = () => {
        clearInterval(timer);
        if (!call.cancelled) call.end();
      };
      call.on('cancelled', () => clearInterval(timer));
      void tick();
    },
  };
}
