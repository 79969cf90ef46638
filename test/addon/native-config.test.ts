/**
 * The binding holds no defaults: it takes complete configs (src/config/ fills every default, src/pipeline.ts and
 * src/tracker.ts pass them on) and a missing field is ERR_CAMTRACK_INVALID_ARGUMENT naming it, never a value made up
 * in C++ (native/binding/convert.h). Real addon, no inference worker: nothing here decodes a frame.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { normaliseConfig, normaliseStream } from '../../dist/config.js';
import { resolveModel } from '../../dist/models/resolve.js';
import { JS_ONLY_STREAM_OPTIONS, loadNative, type NativePipeline } from '../../dist/native.js';
import { toNativeLiveConfig, toNativePipelineConfig, toNativeStream } from '../../dist/pipeline.js';
import { normaliseStandaloneTracker } from '../../dist/tracker.js';
import { CamtrackError } from '../../dist/index.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';

/** Runs fn, expects a CamtrackError ERR_CAMTRACK_INVALID_ARGUMENT, returns its message. */
function invalidArgument(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CamtrackError);
    expect((err as CamtrackError).code).toBe('ERR_CAMTRACK_INVALID_ARGUMENT');
    return (err as Error).message;
  }
  throw new Error('expected ERR_CAMTRACK_INVALID_ARGUMENT, but nothing was thrown');
}

/** `obj` without `key` (a shallow copy). */
function without<T extends object>(obj: T, key: string): T {
  const copy = { ...obj } as Record<string, unknown>;
  delete copy[key];
  return copy as T;
}

describe('NativeTracker config', () => {
  const complete = (({ classNames: _c, ...rest }) => rest)(normaliseStandaloneTracker({ type: 'sort' }));

  it('takes the complete config the TS layer builds', () => {
    expect(new (loadNative().NativeTracker)(complete).update([])).toEqual([]);
  });

  it.each(Object.keys(complete))('BAD CALL - a config without %s names it', (key) => {
    expect(invalidArgument(() => new (loadNative().NativeTracker)(without(complete, key)))).toContain(
      `for ${key} in the native config but received undefined`,
    );
  });
});

describeWithAssets('NativePipeline config', [FAST_MODEL], () => {
  const cfg = normaliseConfig({ model: assetPath(FAST_MODEL) });
  const native = loadNative();
  const pipelines: NativePipeline[] = [];
  afterAll(() => pipelines.forEach((p) => p.close()));

  async function pipelineConfig() {
    const model = await resolveModel(cfg.model);
    return toNativePipelineConfig(model, cfg, model.fixedBatch ?? cfg.batching.maxBatchSize);
  }

  it.each([
    ['batching', 'maxWaitMs'],
    ['batching', 'resultCapacity'],
    ['ingest', 'reconnectRatePerSecond'],
    ['ingest', 'reconnectBurst'],
    ['gpu', 'device'],
    ['model', 'scoreThreshold'],
    ['model', 'padValue'],
  ] as const)('BAD CALL - a pipeline config without %s.%s names it', async (section, key) => {
    const c = await pipelineConfig();
    const bad = { ...c, [section]: without(c[section], key) };
    expect(invalidArgument(() => new native.NativePipeline(bad, () => {}))).toContain(
      `for ${key} in the native config but received undefined`,
    );
  });

  it('BAD CALL - every field of a stream config is required, and live is a LiveMode number', async () => {
    const p = new native.NativePipeline(await pipelineConfig(), () => {});
    pipelines.push(p);
    const stream = toNativeStream(normaliseStream({ id: 'a', url: '/nonexistent.mp4' }, 'stream', cfg.tracker));
    // resultQueueSize and delivery are about JS queues (src/stream.ts, src/delivery.ts): the binding does not read them.
    for (const key of Object.keys(stream).filter((k) => !JS_ONLY_STREAM_OPTIONS.includes(k))) {
      expect(invalidArgument(() => p.addStream(without(stream, key))), key).toContain(
        `for ${key} in the native config but received undefined`,
      );
    }
    for (const key of ['stallTimeoutMs', 'maxAttempts']) {
      expect(invalidArgument(() => p.addStream({ ...stream, reconnect: without(stream.reconnect, key) }))).toContain(key);
    }
    expect(invalidArgument(() => p.addStream({ ...stream, tracker: without(stream.tracker, 'trackThresh') }))).toContain(
      'trackThresh',
    );
    // The strings the binding took before one representation ('auto' | 'true' | 'false').
    expect(invalidArgument(() => p.addStream({ ...stream, live: 'auto' as never }))).toContain('for live in the native config');
    expect(invalidArgument(() => p.addStream({ ...stream, live: 2 as never }))).toContain('Expected -1 (auto), 0 (file) or 1 (live)');
    for (const key of Object.keys(stream.detection)) {
      expect(invalidArgument(() => p.addStream({ ...stream, detection: without(stream.detection, key) })), key).toContain(
        `for ${key} in the native config but received undefined`,
      );
    }
  });

  it('BAD CALL - configureStream() takes a complete live config, and a stream that is not running is ERR_CAMTRACK_INVALID_STATE', async () => {
    const p = new native.NativePipeline(await pipelineConfig(), () => {});
    pipelines.push(p);
    const stream = toNativeStream(normaliseStream({ id: 'a', url: '/nonexistent.mp4' }, 'stream', cfg.tracker));
    const handle = p.addStream(stream);
    const live = toNativeLiveConfig(normaliseStream({ id: 'a', url: '/nonexistent.mp4', fpsLimit: 5 }, 'stream', cfg.tracker));
    p.configureStream(handle, live);
    for (const key of Object.keys(live)) {
      expect(invalidArgument(() => p.configureStream(handle, without(live, key))), key).toContain(
        `for ${key} in the native config but received undefined`,
      );
    }
    expect(invalidArgument(() => p.configureStream(handle, { ...live, detection: { ...live.detection, include: [[0, 0, 1]] } }))).toContain(
      'include',
    );
    // Values the schema refuses are refused natively too (nothing changes).
    expect(invalidArgument(() => p.configureStream(handle, { ...live, detection: { ...live.detection, scoreThreshold: 2 } }))).toContain(
      'scoreThreshold',
    );
    expect(invalidArgument(() => p.configureStream(handle, { ...live, detection: { ...live.detection, include: [[0, 0, 1, 1]] } }))).toContain(
      'at least 3 points',
    );
    p.removeStream(handle);
    let error: unknown;
    try {
      p.configureStream(handle, live);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CamtrackError);
    expect((error as CamtrackError).code).toBe('ERR_CAMTRACK_INVALID_STATE');
  });
});
