/**
 * normaliseConfig() / normaliseStream(): defaults of every field, and the BAD CALL message shape
 * `<path>: Expected <accepted> but received <value> of type <type>` (sharp's shape, see STYLE.md), and that no
 * config error (nor `camtrack run`'s config-file parse error) quotes a URL's credentials.
 * Pure TypeScript: imported from src, no addon needed.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { loadConfigFile } from '../../src/cli/run.js';
import { DEFAULT_INPUT_FORMATS, normaliseConfig, normaliseStream, normaliseTracker } from '../../src/config.js';
import { CamtrackError, ConfigError } from '../../src/errors.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

/** The documented defaults (declared in src/config/schema.ts). */
const DEFAULT_TRACKER = {
  type: 'bytetrack',
  trackThresh: 0.5,
  highThresh: 0.6,
  matchThresh: 0.8,
  minHits: 3,
  iouThreshold: 0.3,
  trackBufferSeconds: 1,
  classAware: false,
} as const;
const DEFAULT_STREAM_FIELDS = {
  input: 'url',
  // input 'push' only (docs/push.md)
  pushQueueSize: 8,
  maxPixels: 50_000_000,
  priority: 'normal',
  rtspTransport: 'tcp',
  openTimeoutMs: 10000,
  readTimeoutMs: 10000,
  loop: false,
  fpsLimit: 0,
  live: 'auto',
  decoderThreads: 1,
  decode: 'auto',
  // docs/configuration.md: detection options that keep every detection
  detection: { scoreThreshold: 0, classThresholds: {}, minArea: 0, include: [], exclude: [] },
  // docs/scheduling.md: every frame inferred, motion gating off
  inference: { interval: 0 },
  motion: { enabled: false, threshold: 25, minArea: 0.002, masks: [], maxSkipSeconds: 5 },
  resultQueueSize: 64,
  delivery: 'auto',
  reconnect: { stallTimeoutMs: 5000, initialDelayMs: 500, maxDelayMs: 30000, multiplier: 2, jitter: 0.2, maxAttempts: -1, maxLagMs: 0 },
  // docs/ingest.md, Input formats
  inputFormats: ['mov', 'matroska', 'mpegts', 'flv', 'avi', 'asf', 'nut', 'ivf', 'h264', 'hevc', 'm4v', 'mjpeg', 'rtsp', 'rtp', 'sdp',
    'image2', 'jpeg_pipe', 'png_pipe', 'bmp_pipe', 'webp_pipe'],
} as const;

/** Runs fn, expects a ConfigError, returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(CamtrackError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('normaliseConfig()', () => {
  it('fills every default from a bare model path', () => {
    const c = normaliseConfig({ model: '/m/yolox_nano.onnx' });
    expect(c).toEqual({
      model: { path: '/m/yolox_nano.onnx' },
      inference: {
        backend: 'auto',
        workers: Math.min(2, os.availableParallelism()),
        intraOpThreads: undefined,
        executionProviders: ['cpu'],
        breaker: { consecutiveFailures: 5, windowBatches: 20, windowFailureRatio: 0.5, cooldownMs: 5000, probeFrames: 1, fallback: 'none' },
      },
      batching: { maxBatchSize: 8, maxWaitMs: 10 },
      detection: { scoreThreshold: 0.25, nmsIou: 0.45, classAgnostic: false, nmsForEndToEnd: false, maxDetections: 300 },
      tracker: DEFAULT_TRACKER,
      streams: [],
      resultCapacity: 256,
      ingest: { reconnectRatePerSecond: 5, reconnectBurst: 5 },
      gpu: { device: 0 },
    });
  });

  it('keeps the values given, including the range ends', () => {
    const c = normaliseConfig({
      model: { path: 'm.onnx', layout: 'yolox', channelOrder: 'bgr', letterbox: 'top-left', padValue: 0, scale: 1, mean: [1, 2, 3], std: [4, 5, 6], classNames: ['a', 'b'] },
      inference: {
        backend: 'onnxruntime',
        workers: 64,
        intraOpThreads: 2,
        executionProviders: ['cuda', 'cpu'],
        breaker: { consecutiveFailures: 0, windowBatches: 1, windowFailureRatio: 1, cooldownMs: 0, probeFrames: 1, fallback: 'cpu' },
      },
      batching: { maxBatchSize: 256, maxWaitMs: 0 },
      detection: { scoreThreshold: 1, nmsIou: 0, classAgnostic: true, nmsForEndToEnd: true, maxDetections: 10000 },
      tracker: { type: 'sort', trackThresh: 0.4, highThresh: 0.7, matchThresh: 0.9, minHits: 0, iouThreshold: 1, trackBufferSeconds: 2.5, classAware: true },
      resultCapacity: 8,
    });
    expect(c.model).toEqual({ path: 'm.onnx', layout: 'yolox', channelOrder: 'bgr', letterbox: 'top-left', padValue: 0, scale: 1, mean: [1, 2, 3], std: [4, 5, 6], classNames: ['a', 'b'] });
    expect(c.inference).toEqual({
      backend: 'onnxruntime',
      workers: 64,
      intraOpThreads: 2,
      executionProviders: ['cuda', 'cpu'],
      breaker: { consecutiveFailures: 0, windowBatches: 1, windowFailureRatio: 1, cooldownMs: 0, probeFrames: 1, fallback: 'cpu' },
    });
    expect(c.batching).toEqual({ maxBatchSize: 256, maxWaitMs: 0 });
    expect(c.detection).toEqual({ scoreThreshold: 1, nmsIou: 0, classAgnostic: true, nmsForEndToEnd: true, maxDetections: 10000 });
    expect(c.tracker).toEqual({ type: 'sort', trackThresh: 0.4, highThresh: 0.7, matchThresh: 0.9, minHits: 0, iouThreshold: 1, trackBufferSeconds: 2.5, classAware: true });
    expect(c.resultCapacity).toBe(8);
  });

  it('model options leave unset fields out (they are read from the model file)', () => {
    expect(normaliseConfig({ model: { path: 'x.onnx' } }).model).toEqual({ path: 'x.onnx' });
  });

  it("BAD CALL - inference.breaker.fallback 'gpu' names the path and the accepted values", () => {
    const e = configError(() => normaliseConfig({ model: 'm.onnx', inference: { breaker: { fallback: 'gpu' as 'cpu' } } }));
    expect(e.code).toBe('ERR_CAMTRACK_INVALID_CONFIG');
    expect(e.path).toBe('inference.breaker.fallback');
    expect(e.message).toMatch(/^inference\.breaker\.fallback: .*'none'.*'cpu'|^inference\.breaker\.fallback: .*"none".*"cpu"/);
  });

  it('BAD CALL - batching.maxWaitMs -1 names the path, the value and the range', () => {
    const e = configError(() => normaliseConfig({ model: 'm.onnx', batching: { maxWaitMs: -1 } }));
    expect(e.message).toBe('batching.maxWaitMs: Expected integer between 0 and 10000 but received -1 of type number');
    expect(e.path).toBe('batching.maxWaitMs');
    expect(e.code).toBe('ERR_CAMTRACK_INVALID_CONFIG');
    expect(e.stage).toBe('config');
    expect(e.name).toBe('ConfigError');
  });

  it.each([
    [{ batching: { maxBatchSize: 0 } }, 'batching.maxBatchSize: Expected integer between 1 and 256 but received 0 of type number'],
    [{ batching: { maxBatchSize: 2.5 } }, 'batching.maxBatchSize: Expected integer between 1 and 256 but received 2.5 of type number'],
    [{ batching: { maxWaitMs: '10' } }, 'batching.maxWaitMs: Expected integer between 0 and 10000 but received "10" of type string'],
    [{ detection: { scoreThreshold: 1.5 } }, 'detection.scoreThreshold: Expected number between 0 and 1 but received 1.5 of type number'],
    [{ detection: { nmsIou: Number.NaN } }, 'detection.nmsIou: Expected number between 0 and 1 but received NaN of type number'],
    [{ detection: { classAgnostic: 'yes' } }, 'detection.classAgnostic: Expected boolean but received "yes" of type string'],
    [{ detection: { maxDetections: 0 } }, 'detection.maxDetections: Expected integer between 1 and 10000 but received 0 of type number'],
    [{ inference: { backend: 'cuda' } }, 'inference.backend: Expected one of "auto", "onnxruntime", "tensorrt" but received "cuda" of type string'],
    [{ inference: { workers: 65 } }, 'inference.workers: Expected integer between 1 and 64 but received 65 of type number'],
    [{ inference: { executionProviders: 'cpu' } }, 'inference.executionProviders: Expected array of strings but received "cpu" of type string'],
    [{ tracker: { type: 'deepsort' } }, 'tracker.type: Expected one of "bytetrack", "sort", "iou", "none" but received "deepsort" of type string'],
    [{ tracker: { minHits: 1.5 } }, 'tracker.minHits: Expected integer between 0 and 1000 but received 1.5 of type number'],
    [{ tracker: { type: 'iou', minHits: 0 } }, 'tracker.minHits: Expected integer between 1 and 1000 but received 0 of type number'],
    [
      { tracker: { type: 'sort', minHits: 0 }, streams: [{ id: 'a', url: 'a.mp4', tracker: { type: 'iou' } }] },
      'streams[0].tracker.minHits: Expected integer between 1 and 1000 but received 0 of type number',
    ],
    [{ tracker: { trackBufferSeconds: 0 } }, 'tracker.trackBufferSeconds: Expected number between 0.01 and 3600 but received 0 of type number'],
    [{ tracker: null }, 'tracker: Expected object but received null'],
    [{ resultCapacity: 4 }, 'resultCapacity: Expected integer between 8 and 65536 but received 4 of type number'],
    [{ streams: {} }, 'streams: Expected array of stream options but received {} of type object'],
  ])('BAD CALL - %j is rejected with its path, value and accepted values', (extra, message) => {
    const e = configError(() => normaliseConfig({ model: 'm.onnx', ...extra }));
    expect(e.message).toBe(message);
    expect(message.startsWith(`${e.path}: `)).toBe(true);
  });

  it.each([
    [{ model: 42 }, 'model', 'model: Expected model file path (string) or { path, ... } but received 42 of type number'],
    [{ model: '' }, 'model', 'model: Expected non-empty string but received "" of type string'],
    [{}, 'model', 'model: Expected model file path (string) or { path, ... } but received undefined'],
    [{ model: { layout: 'yolox' } }, 'model.path', 'model.path: Expected non-empty string but received undefined'],
    [{ model: { path: 'm', layout: 'ssd' } }, 'model.layout', 'model.layout: Expected one of "ultralytics", "yolox", "e2e" but received "ssd" of type string'],
    [{ model: { path: 'm', padValue: 256 } }, 'model.padValue', 'model.padValue: Expected number between 0 and 255 but received 256 of type number'],
    [{ model: { path: 'm', mean: [0, 0] } }, 'model.mean', 'model.mean: Expected array of 3 finite numbers but received [0,0] of type array'],
    [{ model: { path: 'm', std: [1, 0, 1] } }, 'model.std', 'model.std: Expected non-zero values but received [1,0,1] of type array'],
    [{ model: { path: 'm', classNames: ['a', 1] } }, 'model.classNames', 'model.classNames: Expected array of strings but received ["a",1] of type array'],
  ])('BAD CALL - model %j', (input, path, message) => {
    const e = configError(() => normaliseConfig(input));
    expect(e.path).toBe(path);
    expect(e.message).toBe(message);
  });

  it('BAD CALL - a non-object config', () => {
    expect(configError(() => normaliseConfig('m.onnx')).message).toBe('config: Expected object but received "m.onnx" of type string');
    expect(configError(() => normaliseConfig(null)).message).toBe('config: Expected object but received null');
  });

  it('BAD CALL - unknown top-level keys are rejected with the accepted list', () => {
    const e = configError(() => normaliseConfig({ model: 'm.onnx', batchSize: 4 }));
    expect(e.path).toBe('batchSize');
    expect(e.message).toBe(
      'batchSize: Unknown option "batchSize"; accepted: model, inference, batching, detection, tracker, streams, resultCapacity, ingest, gpu',
    );
  });

  it('BAD CALL - unknown nested keys are rejected with the accepted list of that object', () => {
    expect(configError(() => normaliseConfig({ model: 'm.onnx', batching: { maxWait: 5 } })).message).toBe(
      'batching.maxWait: Unknown option "maxWait"; accepted: maxBatchSize, maxWaitMs, targetLatencyMs',
    );
    expect(configError(() => normaliseConfig({ model: 'm.onnx', detection: { iou: 0.5 } })).message).toBe(
      'detection.iou: Unknown option "iou"; accepted: scoreThreshold, nmsIou, classAgnostic, nmsForEndToEnd, maxDetections',
    );
    expect(configError(() => normaliseConfig({ model: 'm.onnx', tracker: { buffer: 30 } })).message).toBe(
      'tracker.buffer: Unknown option "buffer"; accepted: type, trackThresh, highThresh, matchThresh, minHits, iouThreshold, trackBufferSeconds, classAware',
    );
    expect(configError(() => normaliseConfig({ model: { path: 'm', input: 640 } })).path).toBe('model.input');
  });

  it('validates the streams with their index in the path', () => {
    const e = configError(() =>
      normaliseConfig({ model: 'm.onnx', streams: [{ id: 'a', url: 'a.mp4' }, { id: 'b', url: 'b.mp4', fpsLimit: -2 }] }),
    );
    expect(e.path).toBe('streams[1].fpsLimit');
    expect(e.message).toBe('streams[1].fpsLimit: Expected number between 0 and 1000 but received -2 of type number');
  });

  it('BAD CALL - duplicate stream ids', () => {
    const e = configError(() =>
      normaliseConfig({ model: 'm.onnx', streams: [{ id: 'cam', url: 'a.mp4' }, { id: 'x', url: 'b.mp4' }, { id: 'cam', url: 'c.mp4' }] }),
    );
    expect(e.path).toBe('streams[2].id');
    expect(e.message).toBe('streams[2].id: Duplicate stream id "cam"');
  });

  it('keeps valid streams as given (they are normalised again by addStream)', () => {
    const streams = [{ id: 'a', url: 'a.mp4', loop: true }];
    expect(normaliseConfig({ model: 'm.onnx', streams }).streams).toEqual(streams);
  });
});

describe('normaliseStream()', () => {
  const base = normaliseTracker(undefined, 'tracker');

  it('fills the documented defaults', () => {
    expect(normaliseStream({ id: 'cam1', url: 'rtsp://h/x' }, 'stream', base)).toEqual({
      id: 'cam1',
      url: 'rtsp://h/x',
      ...DEFAULT_STREAM_FIELDS,
      tracker: DEFAULT_TRACKER,
    });
  });

  it("inherits the pipeline's tracker and overrides single fields per stream", () => {
    const pipelineTracker = normaliseTracker({ trackThresh: 0.3, classAware: true }, 'tracker');
    const s = normaliseStream({ id: 'a', url: 'u', tracker: { highThresh: 0.9 } }, 'stream', pipelineTracker);
    expect(s.tracker).toEqual({ ...DEFAULT_TRACKER, trackThresh: 0.3, classAware: true, highThresh: 0.9 });
    // the base object is not modified
    expect(pipelineTracker.highThresh).toBe(0.6);
  });

  it('keeps valid values', () => {
    const s = normaliseStream(
      { id: 'a', url: 'u', rtspTransport: 'udp', openTimeoutMs: 100, readTimeoutMs: 600000, loop: true, fpsLimit: 7.5, live: false, decoderThreads: 16, resultQueueSize: 1 },
      'stream',
      base,
    );
    expect(s).toMatchObject({ rtspTransport: 'udp', openTimeoutMs: 100, readTimeoutMs: 600000, loop: true, fpsLimit: 7.5, live: false, decoderThreads: 16, resultQueueSize: 1 });
  });

  it('inputFormats: the default list (video containers, streams, images), an override, [] for any', () => {
    expect(normaliseStream({ id: 'a', url: 'u' }, 'stream', base).inputFormats).toEqual([...DEFAULT_INPUT_FORMATS]);
    expect(DEFAULT_INPUT_FORMATS).toEqual(expect.arrayContaining(['mov', 'matroska', 'mpegts', 'rtsp', 'image2']));
    expect(DEFAULT_INPUT_FORMATS).not.toContain('tty');
    expect(normaliseStream({ id: 'a', url: 'u', inputFormats: ['tty'] }, 'stream', base).inputFormats).toEqual(['tty']);
    expect(normaliseStream({ id: 'a', url: 'u', inputFormats: [] }, 'stream', base).inputFormats).toEqual([]);
  });

  it.each([
    [{ url: 'u' }, 'stream.id: Expected non-empty string but received undefined'],
    [{ id: '', url: 'u' }, 'stream.id: Expected non-empty string but received "" of type string'],
    [{ id: 'a' }, 'stream.url: Expected non-empty string but received undefined'],
    [{ id: 'a', url: 'u', rtspTransport: 'http' }, 'stream.rtspTransport: Expected one of "tcp", "udp" but received "http" of type string'],
    [{ id: 'a', url: 'u', openTimeoutMs: 99 }, 'stream.openTimeoutMs: Expected integer between 100 and 600000 but received 99 of type number'],
    [{ id: 'a', url: 'u', readTimeoutMs: 1000.5 }, 'stream.readTimeoutMs: Expected integer between 100 and 600000 but received 1000.5 of type number'],
    [{ id: 'a', url: 'u', loop: 1 }, 'stream.loop: Expected boolean but received 1 of type number'],
    [{ id: 'a', url: 'u', fpsLimit: 1001 }, 'stream.fpsLimit: Expected number between 0 and 1000 but received 1001 of type number'],
    [{ id: 'a', url: 'u', live: 'yes' }, `stream.live: Expected boolean or 'auto' but received "yes" of type string`],
    [{ id: 'a', url: 'u', decoderThreads: 0 }, 'stream.decoderThreads: Expected integer between 1 and 16 but received 0 of type number'],
    [{ id: 'a', url: 'u', inputFormats: 'mov' }, 'stream.inputFormats: Expected array of strings but received "mov" of type string'],
    [{ id: 'a', url: 'u', inputFormats: ['mov,tty'] }, 'stream.inputFormats: Expected FFmpeg demuxer names (a-z, 0-9, _) but received ["mov,tty"] of type array'],
    [{ id: 'a', url: 'u', resultQueueSize: 0 }, 'stream.resultQueueSize: Expected integer between 1 and 100000 but received 0 of type number'],
    [{ id: 'a', url: 'u', tracker: { matchThresh: 2 } }, 'stream.tracker.matchThresh: Expected number between 0 and 1 but received 2 of type number'],
  ])('BAD CALL - %j', (input, message) => {
    const e = configError(() => normaliseStream(input, 'stream', base));
    expect(e.message).toBe(message);
    expect(message.startsWith(`${e.path}: `)).toBe(true);
  });

  it('BAD CALL - not an object', () => {
    expect(configError(() => normaliseStream('rtsp://x', 'stream', base)).message).toBe(
      'stream: Expected object with id and url but received "rtsp://x" of type string',
    );
  });

  it('BAD CALL - unknown keys list the accepted stream options', () => {
    const e = configError(() => normaliseStream({ id: 'a', url: 'u', transport: 'udp' }, 'stream', base));
    expect(e.path).toBe('stream.transport');
    expect(e.message).toBe(
      'stream.transport: Unknown option "transport"; accepted: id, url, rtspTransport, openTimeoutMs, readTimeoutMs, loop, fpsLimit, live, decoderThreads, decode, detection, analytics, inference, motion, tracker, resultQueueSize, delivery, reconnect, inputFormats, input, codec, pushQueueSize, maxPixels, priority',
    );
  });

  it('reconnect: false is maxAttempts 0; fields are validated with their path', () => {
    expect(normaliseStream({ id: 'a', url: 'u', reconnect: false }, 'stream', base).reconnect.maxAttempts).toBe(0);
    expect(
      normaliseStream({ id: 'a', url: 'u', reconnect: { maxAttempts: 3, jitter: 0, stallTimeoutMs: 0 } }, 'stream', base).reconnect,
    ).toEqual({ ...DEFAULT_STREAM_FIELDS.reconnect, maxAttempts: 3, jitter: 0, stallTimeoutMs: 0 });
    expect(configError(() => normaliseStream({ id: 'a', url: 'u', reconnect: { jitter: 1.5 } }, 'stream', base)).message).toBe(
      'stream.reconnect.jitter: Expected number between 0 and 1 but received 1.5 of type number',
    );
    expect(configError(() => normaliseStream({ id: 'a', url: 'u', reconnect: { maxAttempts: -2 } }, 'stream', base)).path).toBe(
      'stream.reconnect.maxAttempts',
    );
    expect(configError(() => normaliseStream({ id: 'a', url: 'u', reconnect: { stallTimeoutMs: 50 } }, 'stream', base)).path).toBe(
      'stream.reconnect.stallTimeoutMs',
    );
    expect(configError(() => normaliseStream({ id: 'a', url: 'u', reconnect: true }, 'stream', base)).path).toBe('stream.reconnect');
    expect(configError(() => normaliseConfig({ model: 'm.onnx', ingest: { reconnectRatePerSecond: -1 } })).path).toBe(
      'ingest.reconnectRatePerSecond',
    );
  });

  it('gpu.device: an integer 0..255, default 0; anything else is a ConfigError naming gpu.device', () => {
    expect(normaliseConfig({ model: 'm.onnx', gpu: { device: 3 } }).gpu).toEqual({ device: 3 });
    expect(normaliseConfig({ model: 'm.onnx', gpu: {} }).gpu).toEqual({ device: 0 });
    const e = configError(() => normaliseConfig({ model: 'm.onnx', gpu: { device: 1.5 } }));
    expect(e.path).toBe('gpu.device');
    expect(e.message).toBe('gpu.device: Expected integer between 0 and 255 but received 1.5 of type number');
    expect(configError(() => normaliseConfig({ model: 'm.onnx', gpu: { device: -1 } })).path).toBe('gpu.device');
    expect(configError(() => normaliseConfig({ model: 'm.onnx', gpu: { index: 0 } as never })).path).toBe('gpu.index');
    expect(configError(() => normaliseConfig({ model: 'm.onnx', gpu: 0 as never })).path).toBe('gpu');
  });
});

describe('config errors never quote credentials', () => {
  const tmp = lazyTempDir('camtrack-config-');
  /** The password of every URL below; no message may contain it. */
  const SECRET = 'hunter2';

  it('BAD CALL - a YAML list of URL strings instead of stream objects quotes the URL redacted', () => {
    const e = configError(() => normaliseConfig({ model: 'm.onnx', streams: [`rtsp://admin:${SECRET}@10.0.0.5/stream1`] }));
    expect(e.message).toBe('streams[0]: Expected object with id and url but received "rtsp://***@10.0.0.5/stream1" of type string');
  });

  it('BAD CALL - a bad url field, a URL as an option name and a URL as a duplicate id are redacted too', () => {
    const url = `rtsp://admin:${SECRET}@cam/1?token=t0k`;
    const bad = [
      () => normaliseStream({ id: 'a', url: [url] }, 'stream', normaliseTracker(undefined, 'tracker')),
      () => normaliseStream({ id: 'a', url: 'u', [url]: null }, 'stream', normaliseTracker(undefined, 'tracker')),
      () => normaliseStream({ id: 'a', url: 'u', live: url }, 'stream', normaliseTracker(undefined, 'tracker')),
      () => normaliseConfig({ model: 'm.onnx', streams: [{ id: url, url: 'a' }, { id: url, url: 'b' }] }),
    ];
    const messages = bad.map((fn) => configError(fn)).map((e) => `${e.path} | ${e.message}`);
    expect(messages).toEqual([
      'stream.url | stream.url: Expected non-empty string but received ["rtsp://***@cam/1?token=***"] of type array',
      'stream.rtsp://***@cam/1?token=*** | stream.rtsp://***@cam/1?token=***: Unknown option "rtsp://***@cam/1?token=***"; accepted: id, url, rtspTransport, openTimeoutMs, readTimeoutMs, loop, fpsLimit, live, decoderThreads, decode, detection, analytics, inference, motion, tracker, resultQueueSize, delivery, reconnect, inputFormats, input, codec, pushQueueSize, maxPixels, priority',
      `stream.live | stream.live: Expected boolean or 'auto' but received "rtsp://***@cam/1?token=***" of type string`,
      'streams[1].id | streams[1].id: Duplicate stream id "rtsp://***@cam/1?token=***"',
    ]);
    for (const m of messages) expect(m).not.toContain(SECRET);
  });

  it('EXPECTED FAILURE - a YAML syntax error quotes the offending lines redacted (camtrack run --config)', async () => {
    const file = path.join(tmp(), 'broken.yaml');
    writeFileSync(file, ['model: m.onnx', 'streams:', `  - { id: a, url: rtsp://admin:${SECRET}@cam/1 `, '  - x: [', ''].join('\n'));
    const err = await loadConfigFile(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).toContain('cannot parse');
    expect(message).toContain('rtsp://***@cam/1'); // YAML quotes the line: the point of the test
    expect(message).not.toContain(SECRET);
  });
});
