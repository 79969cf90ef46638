/**
 * Every entry point of the addon checks its arguments (native/binding/args.h): a wrong type, a missing argument or a
 * value out of range is a CamtrackError with code ERR_CAMTRACK_INVALID_ARGUMENT naming the argument, never a crash.
 * The worker bridge (attachWorker / completeBatch / detachWorker) is called from inference worker threads with
 * numbers the addon handed out; a worker finishing after its pipeline closed is normal and stays silent. Real addon,
 * no inference worker thread: nothing here decodes a frame.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { normaliseConfig, normaliseStream } from '../../dist/config.js';
import { CamtrackError } from '../../dist/index.js';
import { resolveModel } from '../../dist/models/resolve.js';
import { loadNative, type NativePipeline } from '../../dist/native.js';
import { toNativePipelineConfig, toNativeStream } from '../../dist/pipeline.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
/** A pipeline id no pipeline has (ids count up from 1 per process). */
const NO_PIPELINE = 2 ** 31 - 1;

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

// The declared signatures are bypassed on purpose: these calls are what a bug in a caller would make.
type Loose = Record<string, (...args: unknown[]) => unknown>;

describe('attachWorker / completeBatch / detachWorker', () => {
  const native = loadNative() as unknown as Loose;

  it.each([
    [[], 'pipelineId'],
    [['1', 0, 0, true], 'pipelineId'],
    [[1.5, 0, 0, true], 'pipelineId'],
    [[0, 0, 0, true], 'pipelineId'],
    [[NO_PIPELINE, -1, 0, true], 'workerIndex'],
    [[NO_PIPELINE, 0, -1, true], 'slot'],
    [[NO_PIPELINE, 0, 2 ** 20, true], 'slot'],
    [[NO_PIPELINE, 0, 0], 'ok'],
    [[NO_PIPELINE, 0, 0, 1], 'ok'],
    [[NO_PIPELINE, 0, 0, false, 42], 'errorMessage'],
    [[NaN, 0, 0, true], 'pipelineId'],
  ])('BAD CALL - completeBatch(%j) names %s', (args, name) => {
    expect(invalidArgument(() => native.completeBatch(...args))).toContain(`for ${name} but received`);
  });

  it('completeBatch of a pipeline that is gone is ignored (a worker finishing after close())', () => {
    expect(native.completeBatch(NO_PIPELINE, 0, 0, true)).toBeUndefined();
    expect(native.completeBatch(NO_PIPELINE, 3, 1, false, 'inference failed')).toBeUndefined();
  });

  it.each([
    [[], 'pipelineId'],
    [[{}, 0], 'pipelineId'],
    [[-1, 0], 'pipelineId'],
    [[NO_PIPELINE], 'workerIndex'],
    [[NO_PIPELINE, -2], 'workerIndex'],
    [[NO_PIPELINE, 2 ** 31], 'workerIndex'],
    [[NO_PIPELINE, '0'], 'workerIndex'],
  ])('BAD CALL - detachWorker(%j) names %s', (args, name) => {
    expect(invalidArgument(() => native.detachWorker(...args))).toContain(`for ${name} but received`);
  });

  it('detachWorker of an unknown worker does nothing (idempotent)', () => {
    expect(native.detachWorker(NO_PIPELINE, 0)).toBeUndefined();
    expect(native.detachWorker(NO_PIPELINE, 0)).toBeUndefined();
  });

  it('BAD CALL - attachWorker checks ids, arrays, buffer types and the callback', () => {
    const f32 = [new Float32Array(4)];
    const noop = () => {};
    expect(invalidArgument(() => native.attachWorker('x', f32, f32, noop))).toContain('for pipelineId');
    expect(invalidArgument(() => native.attachWorker(NO_PIPELINE, 'x', f32, noop))).toContain('for inputs');
    expect(invalidArgument(() => native.attachWorker(NO_PIPELINE, f32, null, noop))).toContain('for outputs');
    expect(invalidArgument(() => native.attachWorker(NO_PIPELINE, f32, f32, 42))).toContain('for onSubmit');
    expect(invalidArgument(() => native.attachWorker(NO_PIPELINE, f32, f32, noop, 7))).toContain('for name');
    expect(invalidArgument(() => native.attachWorker(NO_PIPELINE, f32, f32, noop, 'w', 'gpu'))).toContain("pool must be 'primary' or 'fallback'");
    expect(invalidArgument(() => native.attachWorker(NO_PIPELINE, [new Float64Array(4)], f32, noop))).toContain(
      'for inputs[0]',
    );
    expect(invalidArgument(() => native.attachWorker(NO_PIPELINE, f32, [{}], noop))).toContain('for outputs[0]');
    expect(invalidArgument(() => native.attachWorker(NO_PIPELINE, [], [], noop))).toContain('non-empty');
  });

  it('attachWorker to a pipeline that is gone is ERR_CAMTRACK_INVALID_STATE', () => {
    const f32 = [new Float32Array(4)];
    try {
      native.attachWorker(NO_PIPELINE, f32, f32, () => {});
      throw new Error('attachWorker did not throw');
    } catch (err) {
      expect((err as CamtrackError).code).toBe('ERR_CAMTRACK_INVALID_STATE');
    }
  });

  it('BAD CALL - setErrorClass needs a function', () => {
    expect(invalidArgument(() => native.setErrorClass(42))).toContain('for errorClass');
  });
});

describeWithAssets('NativePipeline arguments', [FAST_MODEL], () => {
  const cfg = normaliseConfig({ model: assetPath(FAST_MODEL) });
  const native = loadNative();
  const pipelines: NativePipeline[] = [];
  afterAll(() => pipelines.forEach((p) => p.close()));

  async function open(): Promise<NativePipeline & Loose> {
    const model = await resolveModel(cfg.model);
    const p = new native.NativePipeline(
      toNativePipelineConfig(model, cfg, model.fixedBatch ?? cfg.batching.maxBatchSize),
      () => {},
    );
    pipelines.push(p);
    return p as NativePipeline & Loose;
  }

  it('BAD CALL - the constructor needs a config object and a callback', async () => {
    const model = await resolveModel(cfg.model);
    const config = toNativePipelineConfig(model, cfg, model.fixedBatch ?? cfg.batching.maxBatchSize);
    const Ctor = native.NativePipeline as unknown as new (...args: unknown[]) => unknown;
    expect(invalidArgument(() => new Ctor())).toContain('for config');
    expect(invalidArgument(() => new Ctor([], () => {}))).toContain('for config');
    expect(invalidArgument(() => new Ctor(config, 'x'))).toContain('for onEvents');
  });

  it('BAD CALL - each method names the argument it refuses', async () => {
    const p = await open();
    expect(invalidArgument(() => p.addStream())).toContain('for config');
    expect(invalidArgument(() => p.addStream('rtsp://x'))).toContain('for config');
    expect(invalidArgument(() => p.removeStream('a'))).toContain('for handle');
    expect(invalidArgument(() => p.removeStream(-1))).toContain('for handle');
    expect(invalidArgument(() => p.streamStats(1.5))).toContain('for handle');
    expect(invalidArgument(() => p.flush(42))).toContain('for onEvents');
    // Valid calls on unknown handles stay what they were: nothing to remove, no stats.
    expect(p.removeStream(12345)).toBeUndefined();
    expect(p.streamStats(12345)).toBeUndefined();
  });

  it('BAD CALL - pushFrame / endPush name the argument they refuse; a stream that is not pushed is ERR_CAMTRACK_INVALID_STATE', async () => {
    const p = await open();
    const jpeg = Buffer.from([0xff, 0xd8, 0xff]);
    expect(invalidArgument(() => p.pushFrame('a', 0, jpeg, -1))).toContain('for handle');
    expect(invalidArgument(() => p.pushFrame(1, -1, jpeg, -1))).toContain('for seq');
    expect(invalidArgument(() => p.pushFrame(1, 0.5, jpeg, -1))).toContain('for seq');
    expect(invalidArgument(() => p.pushFrame(1, 0, 'bytes', -1))).toContain('Expected a Uint8Array or Buffer for bytes');
    expect(invalidArgument(() => p.pushFrame(1, 0, new Float32Array(2), -1))).toContain('for bytes');
    expect(invalidArgument(() => p.pushFrame(1, 0, jpeg, -2))).toContain('for ptsMs');
    expect(invalidArgument(() => p.pushFrame(1, 0, jpeg))).toContain('for ptsMs');
    expect(invalidArgument(() => p.pushFrame(1, 0, jpeg, -1, 'high'))).toContain('for high');
    expect(invalidArgument(() => p.endPush(null))).toContain('for handle');
    const invalidState = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        expect((err as CamtrackError).code).toBe('ERR_CAMTRACK_INVALID_STATE');
        return (err as Error).message;
      }
      throw new Error('expected ERR_CAMTRACK_INVALID_STATE');
    };
    expect(invalidState(() => p.pushFrame(12345, 0, jpeg, -1))).toContain('is not running');
    const handle = p.addStream(toNativeStream(normaliseStream({ id: 'u', url: '/nonexistent.mp4' }, 'stream', cfg.tracker)));
    expect(invalidState(() => p.pushFrame(handle, 0, jpeg, -1))).toContain('is not a pushed stream');
    expect(invalidState(() => p.endPush(handle))).toContain('is not a pushed stream');
    expect(p.endPush(12345)).toBeUndefined(); // unknown: ignored (the stream may have ended)
    const pushed = p.addStream(toNativeStream(normaliseStream({ id: 'p', input: 'push', codec: 'jpeg' }, 'stream', cfg.tracker)));
    // Frame numbers must be the count of accepted pushes: the JS side and the native queue agree by construction.
    expect(p.pushFrame(pushed, 0, jpeg, -1)).toBeGreaterThanOrEqual(0);
    expect(() => p.pushFrame(pushed, 5, jpeg, -1)).toThrow(/out of step/);
  });

  it('BAD CALL - completeBatch with a worker or slot the pipeline does not have', async () => {
    const p = await open();
    expect(invalidArgument(() => native.completeBatch(p.id, 0, 0, true))).toContain('has no worker 0');
    const f32 = [new Float32Array(1)];
    // Buffers too small for the model's batch: refused before anything is added, so still no worker 0.
    try {
      native.attachWorker(p.id, f32, f32, () => {});
      throw new Error('attachWorker did not throw');
    } catch (err) {
      expect((err as CamtrackError).code).toBe('ERR_CAMTRACK_INVALID_ARGUMENT');
    }
    expect(invalidArgument(() => native.completeBatch(p.id, 0, 0, true))).toContain('has no worker 0');
    expect(native.detachWorker(p.id, 0)).toBeUndefined();
  });
});
