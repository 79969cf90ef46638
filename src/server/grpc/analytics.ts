/**
 * camtrack.v1.AnalyticsService (proto/camtrack/v1/analytics.proto, docs/grpc.md): a camera's cumulative line counts
 * and zone occupancy as the wire format's `analytics_counts` message, read from the serve's LatestAnalytics
 * (src/sinks/analytics-latest.ts), the same object GET /api/v1/cameras/{id}/analytics and /metrics read: no counting
 * here. Any camera of the process with an `analytics` section (config, REST, sessions, gRPC). The same token as
 * VisionCoreService.
 *
 * WatchCameraCounts sends the counts at once, then looks at them every interval_ms and sends them again when a line's
 * or zone's counts changed (nothing per frame); it ends NOT_FOUND / FAILED_PRECONDITION when the camera or its
 * analytics section goes, and OK when the server shuts down.
 */
import type * as grpc from '@grpc/grpc-js';
import { CamtrackError } from '../../errors.js';
import type { LatestAnalytics } from '../../sinks/analytics-latest.js';
import type { WireAnalyticsCounts } from '../../wire/schema.js';
import { checkToken } from './auth.js';
import { toServiceError } from './errors.js';

const DEFAULT_INTERVAL_MS = 1000;
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 60_000;

/** Where the analytics calls' failures are counted (the service's `errors`, GetEngineMetrics and /metrics). */
export interface AnalyticsCallCounters {
  errors: number;
}

/** The wire message as the proto's AnalyticsCounts: null frame_id / ts_ms absent (proto3 optional). */
export function toProtoCounts(w: WireAnalyticsCounts): Record<string, unknown> {
  const { frame_id, ts_ms, ...rest } = w;
  return { ...rest, ...(frame_id !== null ? { frame_id } : {}), ...(ts_ms !== null ? { ts_ms } : {}) };
}

function cameraIdOf(req: { camera_id?: string }): string {
  const id = req.camera_id ?? '';
  if (id.length === 0 || id.length > 256) {
    throw new CamtrackError('invalid camera_id', 'ERR_CAMTRACK_INVALID_ARGUMENT', { stage: 'grpc', hint: 'camera_id: the id of a camera with an analytics section (GET /api/v1/cameras lists them)' });
  }
  return id;
}

/** What changes between two reads: the counts, not the clock or the frame they were read at. */
const countsKey = (w: WireAnalyticsCounts): string => JSON.stringify([w.lines, w.zones]);

export function analyticsHandlers(
  analytics: LatestAnalytics,
  token: string | undefined,
  counters: AnalyticsCallCounters,
  closing: () => boolean,
): grpc.UntypedServiceImplementation {
  return {
    GetCameraCounts(call: grpc.ServerUnaryCall<{ camera_id: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      try {
        checkToken(call.metadata, token);
        const counts = analytics.counts(cameraIdOf(call.request));
        callback(null, toProtoCounts(counts));
      } catch (err) {
        counters.errors++;
        callback(toServiceError(err));
      }
    },
    WatchCameraCounts(call: grpc.ServerWritableStream<{ camera_id: string; interval_ms: number }, unknown>) {
      let id: string;
      let intervalMs: number;
      try {
        checkToken(call.metadata, token);
        id = cameraIdOf(call.request);
        const asked = call.request.interval_ms;
        if (asked !== 0 && (asked < MIN_INTERVAL_MS || asked > MAX_INTERVAL_MS)) {
          throw new CamtrackError(`interval_ms ${asked} out of range`, 'ERR_CAMTRACK_INVALID_ARGUMENT', {
            stage: 'grpc',
            hint: `interval_ms: 0 (${DEFAULT_INTERVAL_MS}) or ${MIN_INTERVAL_MS}..${MAX_INTERVAL_MS}`,
          });
        }
        intervalMs = asked === 0 ? DEFAULT_INTERVAL_MS : asked;
      } catch (err) {
        counters.errors++;
        call.emit('error', toServiceError(err));
        return;
      }
      let last: string | undefined;
      let done = false;
      const stop = (err?: unknown) => {
        if (done) return;
        done = true;
        clearInterval(timer);
        if (call.cancelled) return;
        if (err !== undefined) {
          counters.errors++;
          call.emit('error', toServiceError(err));
        } else call.end();
      };
      const tick = () => {
        if (done || call.cancelled) return;
        if (closing()) return stop();
        let counts: WireAnalyticsCounts;
        try {
          counts = analytics.counts(id);
        } catch (err) {
          return stop(err);
        }
        const key = countsKey(counts);
        if (key === last) return;
        last = key;
        // A reader that does not keep up gets the newest counts: nothing is queued beyond grpc-js's buffer.
        if (!call.writableNeedDrain) call.write(toProtoCounts(counts));
        else last = undefined; // not sent: send the next read whatever it holds
      };
      const timer = setInterval(tick, intervalMs);
      call.on('cancelled', () => stop());
      tick();
    },
  };
}
