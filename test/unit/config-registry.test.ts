/**
 * The camera registry's config (issue 9, seam e), `camtrack run`'s file: the pipeline options with `model` and/or
 * named `models`, cameras that name their model. normaliseRegistryConfig() and normaliseCamera() (src/config) and
 * the JSON Schema `camtrack config schema` prints. Pure TypeScript, no addon. The registry itself:
 * test/addon/camera-registry.test.ts.
 */
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';

import {
  configJsonSchema,
  normaliseCamera,
  normaliseConfig,
  normaliseRegistryConfig,
  type CameraRegistryConfig,
} from '../../src/config.js';
import { CamtrackError, ConfigError } from '../../src/errors.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as CamtrackError).code).toBe('ERR_CAMTRACK_INVALID_CONFIG');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

const TWO_MODELS: CameraRegistryConfig = {
  models: { people: '/m/yolo11n_int8_320.onnx', cars: { path: '/m/yolox_nano.onnx', channelOrder: 'bgr' } },
  detection: { scoreThreshold: 0.3 },
  streams: [
    { id: 'door', url: 'door.mp4', model: 'people' },
    { id: 'gate', url: 'rtsp://cam/gate', model: 'cars', fpsLimit: 5 },
  ],
};

describe('normaliseRegistryConfig()', () => {
  it('`model` alone still works: one model named "default", the model of every camera', () => {
    const c = normaliseRegistryConfig({ model: '/m/yolox_nano.onnx', streams: [{ id: 'a', url: 'a.mp4' }] });
    expect(c.models).toEqual({ default: { path: '/m/yolox_nano.onnx' } });
    expect(c.defaultModel).toBe('default');
    expect(c.cameras.map((x) => [x.model, x.stream.id])).toEqual([['default', 'a']]);
    expect(c.pipeline).toEqual({});
  });

  it('binds each camera to the model it names; the shared pipeline options are kept for every pipeline', () => {
    const c = normaliseRegistryConfig(TWO_MODELS);
    expect(c.models).toEqual({ people: { path: '/m/yolo11n_int8_320.onnx' }, cars: { path: '/m/yolox_nano.onnx', channelOrder: 'bgr' } });
    expect(c.defaultModel).toBeUndefined();
    expect(c.cameras.map((x) => [x.stream.id, x.model])).toEqual([
      ['door', 'people'],
      ['gate', 'cars'],
    ]);
    // The options a pipeline gets (without `model`), and each camera's as a Pipeline#addStream() takes them.
    expect(c.pipeline).toEqual({ detection: { scoreThreshold: 0.3 } });
    expect(c.cameras[1]!.options).toEqual({ id: 'gate', url: 'rtsp://cam/gate', fpsLimit: 5 });
    expect(c.cameras[1]!.stream.fpsLimit).toBe(5);
  });

  it('a camera without `model` runs on the top-level model, else on the only one of `models`', () => {
    const both = normaliseRegistryConfig({ model: 'a.onnx', models: { b: 'b.onnx' }, streams: [{ id: 'x', url: 'x.mp4' }, { id: 'y', url: 'y.mp4', model: 'b' }] });
    expect(Object.keys(both.models)).toEqual(['default', 'b']);
    expect(both.cameras.map((x) => x.model)).toEqual(['default', 'b']);
    const one = normaliseRegistryConfig({ models: { only: 'o.onnx' }, streams: [{ id: 'x', url: 'x.mp4' }] });
    expect(one.cameras[0]!.model).toBe('only');
    expect(normaliseRegistryConfig({ model: 'a.onnx', streams: [{ id: 'x', url: 'x.mp4', model: 'default' }] }).cameras[0]!.model).toBe('default');
  });

  it('EXPECTED FAILURE - an unknown model name is a ConfigError naming the path and the known names', () => {
    const e = configError(() => normaliseRegistryConfig({ ...TWO_MODELS, streams: [{ id: 'a', url: 'a.mp4', model: 'people' }, { id: 'b', url: 'b.mp4', model: 'trucks' }] }));
    expect(e.path).toBe('streams[1].model');
    expect(e.message).toBe('streams[1].model: Expected one of "people", "cars" (the names in models) but received "trucks" of type string');
  });

  it('EXPECTED FAILURE - a camera without `model` among several models and no top-level one', () => {
    const e = configError(() => normaliseRegistryConfig({ ...TWO_MODELS, streams: [{ id: 'a', url: 'a.mp4' }] }));
    expect(e.message).toBe('streams[0].model: Expected one of "people", "cars" (the names in models) but received undefined');
    // 'default' names the top-level model only.
    expect(configError(() => normaliseRegistryConfig({ ...TWO_MODELS, streams: [{ id: 'a', url: 'a.mp4', model: 'default' }] })).path).toBe('streams[0].model');
  });

  it('EXPECTED FAILURE - camera ids are unique across all models', () => {
    const e = configError(() =>
      normaliseRegistryConfig({ ...TWO_MODELS, streams: [{ id: 'cam', url: 'a.mp4', model: 'people' }, { id: 'cam', url: 'b.mp4', model: 'cars' }] }),
    );
    expect(e.message).toBe('streams[1].id: Duplicate stream id "cam"');
  });

  it.each([
    [{}, 'model', 'model: Expected model file path (string) or { path, ... }, or named models in `models` but received undefined'],
    [{ models: {} }, 'models', 'models: Expected object of model file paths or { path, ... } by name but received {} of type object'],
    [{ models: 'm.onnx' }, 'models', 'models: Expected object of model file paths or { path, ... } by name but received "m.onnx" of type string'],
    [{ models: { 'bad name': 'm.onnx' } }, 'models.bad name', 'models.bad name: Expected a name matching ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ but received "bad name" of type string'],
    [{ models: { a: 42 } }, 'models.a', 'models.a: Expected model file path (string) or { path, ... } but received 42 of type number'],
    [{ models: { a: { layout: 'yolox' } } }, 'models.a.path', 'models.a.path: Expected non-empty string but received undefined'],
    [{ models: { a: { path: 'm', std: [1, 0, 1] } } }, 'models.a.std', 'models.a.std: Expected non-zero values but received [1,0,1] of type array'],
    [{ model: 'a.onnx', models: { default: 'b.onnx' } }, 'models.default', 'models.default: "default" is the name of the top-level model; rename this entry or leave out the top-level model'],
    [{ model: 'm.onnx', batching: { maxWaitMs: -1 } }, 'batching.maxWaitMs', 'batching.maxWaitMs: Expected integer between 0 and 10000 but received -1 of type number'],
    [{ model: 'm.onnx', streams: [{ id: 'a', url: 'a.mp4', model: '' }] }, 'streams[0].model', 'streams[0].model: Expected non-empty string but received "" of type string'],
  ])('BAD CALL - %j', (input, path, message) => {
    const e = configError(() => normaliseRegistryConfig(input));
    expect(e.path).toBe(path);
    expect(e.message).toBe(message);
  });

  it('BAD CALL - unknown keys list what is accepted, `models` included (and the camera options, `model` included)', () => {
    expect(configError(() => normaliseRegistryConfig({ model: 'm.onnx', batchSize: 4 })).message).toBe(
      'batchSize: Unknown option "batchSize"; accepted: model, models, inference, batching, detection, tracker, streams, resultCapacity, ingest, gpu, redis, serve, outputs',
    );
    expect(configError(() => normaliseRegistryConfig({ model: 'm.onnx', streams: [{ id: 'a', url: 'a.mp4', net: 'x' }] })).message).toBe(
      'streams[0].net: Unknown option "net"; accepted: id, url, rtspTransport, openTimeoutMs, readTimeoutMs, loop, fpsLimit, live, ' +
        'decoderThreads, decode, detection, analytics, inference, motion, tracker, resultQueueSize, delivery, reconnect, inputFormats, input, codec, pushQueueSize, maxPixels, priority, model, feed',
    );
  });

  it('`redis`: absent → undefined; {} or YAML null → every default; kept out of the pipelines\' options', () => {
    expect(normaliseRegistryConfig({ model: 'm.onnx' }).redis).toBeUndefined();
    for (const redis of [{}, null]) {
      const c = normaliseRegistryConfig({ model: 'm.onnx', redis } as unknown as CameraRegistryConfig);
      expect(c.redis).toEqual({
        url: 'redis://127.0.0.1:6379',
        connectTimeoutMs: 10000,
        commandTimeoutMs: 10000,
        closeTimeoutMs: 5000,
        input: {
          key: 'camera_{id}_input',
          group: 'inference_consumer_{id}',
          fields: { frame: 'frame', frameId: 'frame_id', timestamp: 'timestamp', metadata: 'metadata' },
          cameras: [],
          discover: false,
          discoverIntervalMs: 10000,
          readers: 2,
          count: 16,
          blockMs: 1000,
          maxInFlight: 8,
          maxFrameAgeMs: 0,
          claimIdleMs: 30000,
          trimIntervalMs: 10000,
        },
        leases: { enabled: true, ttlMs: 5000, heartbeatMs: 1000, prefix: 'camtrack:' },
        output: { key: 'camera_{id}_output', field: 'data', maxLen: 10000, maxPending: 256, batchSize: 512 },
        events: {
          enabled: [],
          detectionKey: 'detection_events',
          analyticsKey: 'analytics_events',
          metricsKey: 'metrics_events',
          alertKey: 'alert_events',
          field: 'data',
          maxLen: 100000,
          maxPending: 4096,
          metricsIntervalMs: 10000,
        },
        counts: { enabled: true, key: 'camera_{id}_analytics', intervalMs: 1000 },
      });
      expect(c.pipeline).toEqual({});
    }
    const c = normaliseRegistryConfig({ model: 'm.onnx', redis: { url: 'rediss://:pw@r:6380/2', output: { maxLen: 0 }, events: { enabled: ['alert'] } } });
    expect(c.redis).toMatchObject({ url: 'rediss://:pw@r:6380/2', output: { maxLen: 0, key: 'camera_{id}_output' }, events: { enabled: ['alert'] } });
  });

  it('EXPECTED FAILURE - bad `redis` fields name their path; a URL is shown without its password', () => {
    const bad = (redis: unknown): string => configError(() => normaliseRegistryConfig({ model: 'm.onnx', redis } as CameraRegistryConfig)).message;
    expect(bad({ url: 'http://:secret@h:1' })).toBe('redis.url: Expected redis:// or rediss:// URL but received "http://***@h:1" of type string');
    expect(bad({ output: { key: 'results' } })).toBe('redis.output.key: Expected string containing {id} but received "results" of type string');
    expect(bad({ output: { maxPending: 0 } })).toBe('redis.output.maxPending: Expected integer between 1 and 100000 but received 0 of type number');
    expect(bad({ events: { enabled: ['kafka'] } })).toBe(
      'redis.events.enabled: Expected array of "detection", "analytics", "metrics", "alert" but received ["kafka"] of type array',
    );
    expect(bad({ port: 6379 })).toBe(
      'redis.port: Unknown option "port"; accepted: url, connectTimeoutMs, commandTimeoutMs, closeTimeoutMs, input, leases, output, events, counts',
    );
  });

  it('a Pipeline config is not a registry config the other way round: Pipeline.create() takes one `model` and no `models`', () => {
    expect(configError(() => normaliseConfig({ model: 'm.onnx', models: { a: 'a.onnx' } })).path).toBe('models');
    expect(configError(() => normaliseConfig({ model: 'm.onnx', streams: [{ id: 'a', url: 'a.mp4', model: 'a' }] })).path).toBe('streams[0].model');
  });
});

describe('normaliseCamera()', () => {
  const registry = normaliseRegistryConfig(TWO_MODELS);

  it('validates a camera added at run time against the known models', () => {
    const cam = normaliseCamera({ id: 'lobby', url: 'lobby.mp4', model: 'cars' }, 'stream', registry);
    expect(cam.model).toBe('cars');
    expect(cam.options).toEqual({ id: 'lobby', url: 'lobby.mp4' });
    const e = configError(() => normaliseCamera({ id: 'lobby', url: 'lobby.mp4', model: 'bikes' }, 'stream', registry));
    expect(e.message).toBe('stream.model: Expected one of "people", "cars" (the names in models) but received "bikes" of type string');
  });
});

describe('configJsonSchema() of the registry config', () => {
  const validate = new Ajv({ strict: true, allErrors: true }).compile(configJsonSchema());

  it('accepts `model` alone, `models` alone and both', () => {
    expect(validate({ model: 'm.onnx', streams: [{ id: 'a', url: 'a.mp4' }] }), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(TWO_MODELS), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...TWO_MODELS, model: 'm.onnx' }), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['neither model nor models', { streams: [] }, ''],
    ['an empty models', { models: {} }, '/models'],
    ['a bad model name', { models: { 'a b': 'm.onnx' } }, '/models'],
    ['a bad camera model type', { model: 'm.onnx', streams: [{ id: 'a', url: 'a.mp4', model: 3 }] }, '/streams/0/model'],
  ])('EXPECTED FAILURE - rejects %s, as normaliseRegistryConfig() does', (_what, config, instancePath) => {
    expect(validate(config)).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath)).toContain(instancePath);
    expect(() => normaliseRegistryConfig(config)).toThrow(ConfigError);
  });
});
