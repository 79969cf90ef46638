/**
 * The newest analytics of every camera of a CameraRegistry: what `GET /api/v1/cameras/{id}/analytics`, the
 * Prometheus line/zone metrics, the Redis count store and MQTT's retained topics read (docs/analytics.md, "Where the
 * counts go"). Per result it keeps a reference to the result's `analytics` (no copy, no work): the counts are read
 * only when asked for, in the wire format (toWireAnalyticsCounts). A camera no longer registered is forgotten at the
 * next read.
 *
 * reset(id) zeroes the camera's counts natively (Stream#resetAnalytics()) and here at once; results already on their
 * way to JS when it ran still carry the counts from before, so a read within a frame or two of a reset may show them.
 */
import { EventEmitter } from 'node:events';

import type { AnalyticsFrameResult } from '../analytics.js';
import type { CameraRegistry } from '../cameras/registry.js';
import { CamtrackError, redactSecretsIn } from '../errors.js';
import { safeEmit } from '../safe-emit.js';
import type { Stream } from '../stream.js';
import type { FrameResult } from '../types.js';
import { toWireAnalyticsCounts, type WireAnalyticsCounts } from '../wire/index.js';

interface Newest {
  stream: Stream;
  frameIndex: number;
  analytics: AnalyticsFrameResult;
}

export class AnalyticsNotFoundError extends CamtrackError {
  constructor(id: string) {
    super(`no camera ${JSON.stringify(redactSecretsIn(id))}`, 'ERR_CAMTRACK_NOT_FOUND', {
      stage: 'analytics',
      hint: 'GET /api/v1/cameras lists the cameras',
    });
    this.name = 'AnalyticsNotFoundError';
  }
}

/** Events: 'reset' (cameraId) after reset(). */
export class LatestAnalytics extends EventEmitter {
  readonly #registry: CameraRegistry;
  readonly #newest = new Map<string, Newest>();
  readonly #onResult = (r: FrameResult): void => {
    if (!r.analytics) return;
    const stream = this.#registry.get(r.streamId);
    if (stream) this.#newest.set(r.streamId, { stream, frameIndex: r.frameIndex, analytics: r.analytics });
  };

  constructor(registry: CameraRegistry) {
    super();
    this.#registry = registry;
    registry.on('result', this.#onResult);
  }

  close(): void {
    this.#registry.off('result', this.#onResult);
    this.#newest.clear();
  }

  /** The ids of the registered cameras that have an `analytics` section, in the registry's order. */
  cameraIds(): string[] {
    this.#prune();
    return this.#registry
      .list()
      .filter((c) => c.stream.options.analytics)
      .map((c) => c.id);
  }

  /**
   * Camera `id`'s cumulative counts and zone occupancy (every configured line and zone; zeros before its first
   * result). ERR_CAMTRACK_NOT_FOUND: no such camera; ERR_CAMTRACK_INVALID_STATE: it has no analytics section.
   */
  counts(id: string, nowMs = Date.now()): WireAnalyticsCounts {
    const stream = this.#stream(id);
    const a = stream.options.analytics!;
    let newest = this.#newest.get(id);
    if (newest && newest.stream !== stream) {
      this.#newest.delete(id); // a camera re-added with this id
      newest = undefined;
    }
    return toWireAnalyticsCounts(
      id,
      a.lines.map((l) => l.id),
      a.zones.map((z) => z.id),
      newest,
      this.#labels(id),
      nowMs,
    );
  }

  /** Zeroes camera `id`'s cumulative line counts (natively, from its next frame, and in what counts() shows now). */
  reset(id: string): void {
    const stream = this.#stream(id);
    stream.resetAnalytics();
    const newest = this.#newest.get(id);
    if (newest?.stream === stream) {
      const lines: AnalyticsFrameResult['lines'] = {};
      for (const [lid, l] of Object.entries(newest.analytics.lines)) lines[lid] = { ...l, in: 0, out: 0, perClass: [] };
      newest.analytics = { ...newest.analytics, lines };
    }
    safeEmit(this, 'reset', id);
  }

  /** The model's class names of camera `id` (for `label`). */
  #labels(id: string): readonly string[] {
    const model = this.#registry.list().find((c) => c.id === id)?.model;
    return (model !== undefined ? this.#registry.pipeline(model)?.model.classNames : undefined) ?? [];
  }

  #stream(id: string): Stream {
    const stream = this.#registry.get(id);
    if (!stream) throw new AnalyticsNotFoundError(id);
    if (!stream.options.analytics) {
      throw new CamtrackError(`camera ${JSON.stringify(redactSecretsIn(id))} has no analytics section`, 'ERR_CAMTRACK_INVALID_STATE', {
        stage: 'analytics',
        hint: 'give the camera one (stream option `analytics`; over REST: PATCH /api/v1/cameras/{id} with {"analytics": {…}}): docs/analytics.md',
      });
    }
    return stream;
  }

  #prune(): void {
    for (const [id, n] of this.#newest) if (this.#registry.get(id) !== n.stream) this.#newest.delete(id);
  }
}
