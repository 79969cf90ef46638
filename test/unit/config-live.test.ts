/**
 * A stream's detection options and live reconfiguration in the one config schema (src/config/schema.ts,
 * src/config/live.ts, src/config/detection.ts): defaults that change nothing, wrong types named by path, which
 * fields are live-changeable, stream.configure()'s patch semantics (JSON Merge Patch, validated like addStream(),
 * non-live changes refused by name), labels resolved to class ids, and the printed JSON Schema.
 * Pure TypeScript: imported from src, no addon needed (the running stream: test/e2e/stream-configure-rtsp.test.ts).
 */
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';

import {
  LIVE_NOTE,
  LIVE_STREAM_FIELDS,
  StreamOptionsSchema,
  applyStreamPatch,
  configJsonSchema,
  mergePatch,
  normaliseConfig,
  normaliseStream,
  normaliseTracker,
  toNativeDetection,
} from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { COCO_CLASSES } from '../../src/models/model-info.js';

const tracker = normaliseTracker(undefined, 'tracker');
const base = normaliseStream({ id: 'cam', url: 'rtsp://h/cam' }, 'stream', tracker);

/** The documented defaults of StreamOptions.detection: they keep every detection. */
const DEFAULT_DETECTION = { scoreThreshold: 0, classThresholds: {}, minArea: 0, include: [], exclude: [] };
const SQUARE: [number, number][] = [
  [0, 0],
  [100, 0],
  [100, 100],
  [0, 100],
];

/** Runs fn, expects a ConfigError, returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('StreamOptions.detection', () => {
  it('defaults to options that keep every detection, natively too', () => {
    expect(base.detection).toEqual(DEFAULT_DETECTION);
    expect(toNativeDetection(base.detection, COCO_CLASSES, 'stream.detection')).toEqual({
      scoreThreshold: 0,
      classThresholds: [],
      classes: [],
      minAreaPx: 0,
      minAreaFraction: 0,
      maxAreaPx: Infinity,
      maxAreaFraction: Infinity,
      include: [],
      exclude: [],
    });
  });

  it('takes every option, and resolves labels to class ids with the model labels', () => {
    const s = normaliseStream(
      {
        id: 'a',
        url: 'a.mp4',
        detection: {
          scoreThreshold: 0.4,
          classThresholds: { person: 0.6, '2': 0.3 },
          classes: ['person', 2, 'truck'],
          minArea: 400,
          maxArea: '25%',
          include: [SQUARE],
          exclude: [[[10, 10], [20, 10], [15, 20]]],
        },
      },
      'stream',
      tracker,
    );
    expect(toNativeDetection(s.detection, COCO_CLASSES, 'stream.detection')).toEqual({
      scoreThreshold: 0.4,
      classThresholds: [2, 0.3, 0, 0.6], // object key order: integer-like keys first
      classes: [0, 2, 7],
      minAreaPx: 400,
      minAreaFraction: 0,
      maxAreaPx: Infinity,
      maxAreaFraction: 0.25,
      include: [[0, 0, 100, 0, 100, 100, 0, 100]],
      exclude: [[10, 10, 20, 10, 15, 20]],
    });
    const pct = normaliseStream({ id: 'a', url: 'a.mp4', detection: { minArea: '0.5%', maxArea: 90000 } }, 'stream', tracker);
    const n = toNativeDetection(pct.detection, COCO_CLASSES, 'stream.detection');
    expect([n.minAreaPx, n.minAreaFraction, n.maxAreaPx, n.maxAreaFraction]).toEqual([0, 0.005, 90000, Infinity]);
  });

  it.each([
    [{ scoreThreshold: 1.5 }, 'stream.detection.scoreThreshold', 'Expected number between 0 and 1 but received 1.5 of type number'],
    [{ scoreThreshold: '0.5' }, 'stream.detection.scoreThreshold', 'Expected number between 0 and 1 but received "0.5" of type string'],
    [{ classThresholds: { person: 2 } }, 'stream.detection.classThresholds.person', 'Expected number between 0 and 1 but received 2'],
    [{ classThresholds: [0.5] }, 'stream.detection.classThresholds', 'Expected object of class id or label → threshold between 0 and 1'],
    [{ classes: [] }, 'stream.detection.classes', 'Expected non-empty array of class ids (integers >= 0) or labels but received []'],
    [{ classes: [1.5] }, 'stream.detection.classes', 'Expected non-empty array of class ids (integers >= 0) or labels'],
    [{ classes: 'person' }, 'stream.detection.classes', 'Expected non-empty array of class ids'],
    [{ minArea: -1 }, 'stream.detection.minArea', 'Expected number of square pixels (>= 0) or a percentage of the frame area such as "2.5%" but received -1'],
    [{ maxArea: '120%' }, 'stream.detection.maxArea', 'a percentage of the frame area such as "2.5%" but received "120%"'],
    [{ maxArea: '5' }, 'stream.detection.maxArea', 'but received "5" of type string'],
    [{ include: [[[0, 0], [1, 1]]] }, 'stream.detection.include[0]', 'Expected polygon: array of at least 3 [x, y] points but received [[0,0],[1,1]]'],
    [{ include: [[[0, 0], [1, 1], [2]]] }, 'stream.detection.include[0][2]', 'Expected array of 2 finite numbers but received [2]'],
    [{ exclude: [[[0, 0], [1, 'a'], [2, 2]]] }, 'stream.detection.exclude[0][1]', 'Expected array of 2 finite numbers'],
    [{ exclude: SQUARE }, 'stream.detection.exclude[0]', 'Expected polygon: array of at least 3 [x, y] points but received [0,0]'],
    [{ include: 'all' }, 'stream.detection.include', 'Expected array of polygons ([[x, y], …] each) but received "all"'],
    [{ minScore: 0.5 }, 'stream.detection.minScore', 'Unknown option "minScore"; accepted: scoreThreshold, classThresholds, classes, minArea, maxArea, include, exclude'],
  ])('BAD CALL - %j names its path', (detection, path, message) => {
    const e = configError(() => normaliseStream({ id: 'a', url: 'a.mp4', detection }, 'stream', tracker));
    expect(e.path).toBe(path);
    expect(e.message.startsWith(`${path}: `)).toBe(true);
    expect(e.message).toContain(message);
    expect(e.code).toBe('ERR_CAMTRACK_INVALID_CONFIG');
  });

  it('BAD CALL - an unknown label, a class id the model does not have and a class given twice name their path', () => {
    const resolve = (detection: object) =>
      toNativeDetection(normaliseStream({ id: 'a', url: 'a.mp4', detection }, 'stream', tracker).detection, COCO_CLASSES, 'stream.detection');
    let e = configError(() => resolve({ classes: ['person', 'unicorn'] }));
    expect(e.path).toBe('stream.detection.classes[1]');
    expect(e.message).toContain('Unknown class label "unicorn"; the model\'s labels are "person", "bicycle"');
    expect(e.hint).toContain('pipeline.model.classNames');
    e = configError(() => resolve({ classThresholds: { dragon: 0.5 } }));
    expect(e.path).toBe('stream.detection.classThresholds.dragon');
    e = configError(() => resolve({ classes: [80] }));
    expect(e.path).toBe('stream.detection.classes[0]');
    expect(e.message).toContain('Unknown class id 80: the model has 80 classes (0 to 79)');
    e = configError(() => resolve({ classThresholds: { '0': 0.5, person: 0.6 } }));
    expect(e.path).toBe('stream.detection.classThresholds.person');
    expect(e.message).toContain('Class 0 has a threshold already (as "0")');
  });

  it('is part of a pipeline config file: streams[i].detection', () => {
    const c = normaliseConfig({ model: 'm.onnx', streams: [{ id: 'a', url: 'a.mp4', detection: { classes: ['car'] } }] });
    expect(c.streams[0]!.detection).toEqual({ classes: ['car'] });
    const e = configError(() => normaliseConfig({ model: 'm.onnx', streams: [{ id: 'a', url: 'a.mp4', detection: { minArea: 'big' } }] }));
    expect(e.path).toBe('streams[0].detection.minArea');
  });
});

describe('live-changeable stream options', () => {
  it('are marked in the schema: fpsLimit, detection, analytics, inference, motion, tracker, resultQueueSize, and no other', () => {
    expect([...LIVE_STREAM_FIELDS].sort()).toEqual(['analytics', 'detection', 'fpsLimit', 'inference', 'motion', 'resultQueueSize', 'tracker']);
    for (const [key, schema] of Object.entries(StreamOptionsSchema.properties)) {
      const s = schema as { reconfigurable?: boolean; description?: string };
      expect(s.reconfigurable === true, key).toBe(LIVE_STREAM_FIELDS.includes(key));
      expect(s.description?.endsWith(LIVE_NOTE) ?? false, key).toBe(LIVE_STREAM_FIELDS.includes(key));
    }
  });

  it('the printed JSON Schema says which (in the descriptions), without the non-standard keyword, and ajv (strict) checks detection options', () => {
    const schema = configJsonSchema();
    const text = JSON.stringify(schema);
    expect(text).not.toContain('reconfigurable');
    const stream = (schema as { properties: { streams: { items: { properties: Record<string, { description: string }> } } } }).properties.streams
      .items.properties;
    expect(stream.fpsLimit!.description).toContain(LIVE_NOTE);
    expect(stream.url!.description).not.toContain(LIVE_NOTE);
    const validate = new Ajv({ strict: true }).compile(schema);
    const config = (detection: unknown) => ({ model: 'm.onnx', streams: [{ id: 'a', url: 'a.mp4', detection }] });
    expect(validate(config({ classes: ['person', 0], minArea: '1.5%', classThresholds: { car: 0.4 }, exclude: [SQUARE] })), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(config({ minArea: '150%' }))).toBe(false);
    expect(validate(config({ include: [[[0, 0], [1, 1]]] }))).toBe(false);
    expect(validate(config({ classThresholds: { car: 2 } }))).toBe(false);
  });
});

describe('applyStreamPatch() (stream.configure())', () => {
  it('merges a patch into the current options: objects merge, values replace, null restores the default', () => {
    const s = applyStreamPatch(base, { detection: { scoreThreshold: 0.5, classes: ['person'] }, fpsLimit: 5 }, tracker);
    expect(s.detection).toEqual({ ...DEFAULT_DETECTION, scoreThreshold: 0.5, classes: ['person'] });
    expect(s.fpsLimit).toBe(5);
    const t = applyStreamPatch(s, { detection: { classes: null, include: [SQUARE] }, resultQueueSize: 8 }, tracker);
    expect(t.detection).toEqual({ ...DEFAULT_DETECTION, scoreThreshold: 0.5, include: [SQUARE] });
    expect(t.resultQueueSize).toBe(8);
    expect(applyStreamPatch(t, { detection: null, fpsLimit: null }, tracker)).toEqual({ ...t, detection: DEFAULT_DETECTION, fpsLimit: 0 });
    // The current options are not modified.
    expect(base.detection).toEqual(DEFAULT_DETECTION);
    expect(s.detection.classes).toEqual(['person']);
  });

  it("changes tracker parameters and type; null gives a field back to the pipeline's tracker", () => {
    const pipelineTracker = normaliseTracker({ type: 'sort', minHits: 2 }, 'tracker');
    const s = normaliseStream({ id: 'a', url: 'u', tracker: { type: 'bytetrack' } }, 'stream', pipelineTracker);
    const t = applyStreamPatch(s, { tracker: { trackThresh: 0.4, minHits: 5 } }, pipelineTracker);
    expect(t.tracker).toEqual({ ...pipelineTracker, type: 'bytetrack', trackThresh: 0.4, minHits: 5 });
    expect(applyStreamPatch(t, { tracker: { type: null } }, pipelineTracker).tracker.type).toBe('sort');
    expect(applyStreamPatch(t, { tracker: { type: 'none' } }, pipelineTracker).tracker.type).toBe('none');
    expect(applyStreamPatch(t, { tracker: null }, pipelineTracker).tracker).toEqual(pipelineTracker);
    // The IoU tracker's own bound is checked on the merged tracker.
    expect(configError(() => applyStreamPatch(t, { tracker: { type: 'iou', minHits: 0 } }, pipelineTracker)).path).toBe(
      'stream.tracker.minHits',
    );
  });

  it('accepts the non-live fields at their current values (a client sending the whole options back)', () => {
    const s = applyStreamPatch(base, { ...base, fpsLimit: 3 }, tracker);
    expect(s).toEqual({ ...base, fpsLimit: 3 });
    expect(applyStreamPatch(base, { id: 'cam', url: 'rtsp://h/cam', loop: false, reconnect: {} }, tracker)).toEqual(base);
  });

  it('EXPECTED FAILURE - a change of a field that cannot change live is a ConfigError naming every such field', () => {
    let e = configError(() => applyStreamPatch(base, { url: 'rtsp://h/other', fpsLimit: 5 }, tracker));
    expect(e.path).toBe('stream.url');
    expect(e.code).toBe('ERR_CAMTRACK_INVALID_CONFIG');
    expect(e.message).toBe('stream.url: url cannot change on a running stream; live-changeable: fpsLimit, detection, analytics, inference, motion, tracker, resultQueueSize');
    expect(e.hint).toBe('remove the stream and add it again with the new url');
    e = configError(() => applyStreamPatch(base, { decode: 'cpu', reconnect: { maxAttempts: 3 }, rtspTransport: 'udp' }, tracker));
    expect(e.path).toBe('stream.rtspTransport');
    expect(e.message).toContain('rtspTransport, decode, reconnect cannot change on a running stream');
    e = configError(() => applyStreamPatch(base, { id: 'other' }, tracker));
    expect(e.path).toBe('stream.id');
  });

  it('BAD CALL - wrong types and unknown options name their path, as addStream() does', () => {
    expect(configError(() => applyStreamPatch(base, { fpsLimit: 'fast' }, tracker)).message).toBe(
      'stream.fpsLimit: Expected number between 0 and 1000 but received "fast" of type string',
    );
    expect(configError(() => applyStreamPatch(base, { detection: { scoreThreshold: -0.1 } }, tracker)).path).toBe(
      'stream.detection.scoreThreshold',
    );
    expect(configError(() => applyStreamPatch(base, { tracker: { trackThresh: 3 } }, tracker)).path).toBe('stream.tracker.trackThresh');
    expect(configError(() => applyStreamPatch(base, { resultQueueSize: 0 }, tracker)).path).toBe('stream.resultQueueSize');
    expect(configError(() => applyStreamPatch(base, { fpslimit: 5 }, tracker)).message).toContain(
      'stream.fpslimit: Unknown option "fpslimit"; accepted: id, url,',
    );
    expect(configError(() => applyStreamPatch(base, 5, tracker)).message).toBe(
      'stream: Expected object (a patch of the stream options) but received 5 of type number',
    );
  });
});

describe('mergePatch()', () => {
  it('follows RFC 7396', () => {
    // RFC 7396 appendix A, a selection.
    expect(mergePatch({ a: 'b' }, { a: 'c' })).toEqual({ a: 'c' });
    expect(mergePatch({ a: 'b' }, { b: 'c' })).toEqual({ a: 'b', b: 'c' });
    expect(mergePatch({ a: 'b' }, { a: null })).toEqual({});
    expect(mergePatch({ a: ['b'] }, { a: 'c' })).toEqual({ a: 'c' });
    expect(mergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } })).toEqual({ a: { b: 'd' } });
    expect(mergePatch({ a: [{ b: 'c' }] }, { a: [1] })).toEqual({ a: [1] });
    expect(mergePatch({ e: null }, { a: 1 })).toEqual({ e: null, a: 1 });
    expect(mergePatch([1, 2], { a: 'b', c: null })).toEqual({ a: 'b' });
    expect(mergePatch({}, { a: { bb: { ccc: null } } })).toEqual({ a: { bb: {} } });
  });
});
