/**
 * The snake_case names wire clients use for the live-changeable stream options (src/wire/config.ts, docs/wire.md
 * "Live configuration"): every live option has one, each maps to a real option, the design's WebSocket names
 * (`fps_limit`, `confidence_threshold`, `enable_tracking`) are there, docs/wire.md lists them all, and errors name
 * the field the client sent. Pure TypeScript (the running stream: test/e2e/stream-configure-rtsp.test.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  LIVE_STREAM_FIELDS,
  StreamDetectionOptionsSchema,
  TrackerOptionsSchema,
  StreamInferenceOptionsSchema,
  MotionOptionsSchema,
  applyStreamPatch,
  normaliseStream,
  normaliseTracker,
  type NormalisedStream,
  type StreamOptionsPatch,
} from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { WIRE_CONFIG_ALIASES, WIRE_ENABLE_TRACKING, configureFromWire, streamPatchFromWire } from '../../src/wire/index.js';
import { repoRoot } from '../helpers/assets.js';

const tracker = normaliseTracker(undefined, 'tracker');
const base = normaliseStream({ id: 'cam', url: 'rtsp://h/cam' }, 'stream', tracker);

/** Every live-changeable option as a dotted path: the plain fields, and each field of the object ones. */
function liveLeaves(): string[] {
  const objects: Record<string, { properties: Record<string, unknown> }> = {
    detection: StreamDetectionOptionsSchema,
    tracker: TrackerOptionsSchema,
    inference: StreamInferenceOptionsSchema,
    motion: MotionOptionsSchema,
  };
  return LIVE_STREAM_FIELDS.flatMap((k) => (objects[k] ? Object.keys(objects[k].properties).map((p) => `${k}.${p}`) : [k]));
}

/** A stream whose configure() is applyStreamPatch() on `base` (what Pipeline does, less the native call). */
function fakeStream(): { options: NormalisedStream; configure(patch: StreamOptionsPatch): NormalisedStream } {
  return {
    options: base,
    configure(patch) {
      this.options = applyStreamPatch(this.options, patch, tracker);
      return this.options;
    },
  };
}

describe('WIRE_CONFIG_ALIASES', () => {
  it('names every live-changeable option, and only those', () => {
    const targets = new Set<string>(Object.values(WIRE_CONFIG_ALIASES));
    expect([...targets].sort()).toEqual(liveLeaves().sort());
    for (const name of Object.keys(WIRE_CONFIG_ALIASES)) expect(name).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  it("has the design's WebSocket config_update names", () => {
    expect(WIRE_CONFIG_ALIASES.fps_limit).toBe('fpsLimit');
    expect(WIRE_CONFIG_ALIASES.confidence_threshold).toBe('detection.scoreThreshold');
    expect(WIRE_ENABLE_TRACKING).toBe('enable_tracking');
  });

  it('is documented in docs/wire.md, every name with its option', () => {
    const doc = readFileSync(path.join(repoRoot, 'docs', 'wire.md'), 'utf8');
    for (const [name, target] of [...Object.entries(WIRE_CONFIG_ALIASES), [WIRE_ENABLE_TRACKING, 'tracker.type']]) {
      expect(doc, name).toMatch(new RegExp(`\\| \`${name}\` \\| \`${target!.replace('.', '\\.')}\``));
    }
  });
});

describe('streamPatchFromWire()', () => {
  it("maps a design client's config_update to a stream.configure() patch", () => {
    expect(streamPatchFromWire({ fps_limit: 5, confidence_threshold: 0.6, enable_tracking: false })).toEqual({
      fpsLimit: 5,
      detection: { scoreThreshold: 0.6 },
      tracker: { type: 'none' },
    });
    expect(streamPatchFromWire({ enable_tracking: true, track_thresh: 0.4, tracker_type: null })).toEqual({
      tracker: { type: null, trackThresh: 0.4 },
    });
    expect(
      streamPatchFromWire({ classes: ['person'], min_area: '1%', exclude: [[[0, 0], [9, 0], [9, 9]]], class_thresholds: { car: 0.7 }, result_queue_size: 8 }),
    ).toEqual({
      detection: { classes: ['person'], minArea: '1%', exclude: [[[0, 0], [9, 0], [9, 9]]], classThresholds: { car: 0.7 } },
      resultQueueSize: 8,
    });
    // Two names of one option agree: fine.
    expect(streamPatchFromWire({ score_threshold: 0.5, confidence_threshold: 0.5 })).toEqual({ detection: { scoreThreshold: 0.5 } });
  });

  it('gives a patch that configure() applies', () => {
    const s = fakeStream();
    configureFromWire(s, { fps_limit: 2, confidence_threshold: 0.55, iou_threshold: 0.4, enable_tracking: false });
    expect(s.options.fpsLimit).toBe(2);
    expect(s.options.detection.scoreThreshold).toBe(0.55);
    expect(s.options.tracker).toEqual({ ...tracker, type: 'none', iouThreshold: 0.4 });
    configureFromWire(s, { enable_tracking: true, fps_limit: null });
    expect(s.options.tracker.type).toBe('bytetrack');
    expect(s.options.fpsLimit).toBe(0);
  });

  it('BAD CALL - an unknown name, a bad enable_tracking, or two names of one option that disagree', () => {
    const err = (fn: () => unknown): ConfigError => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    let e = err(() => streamPatchFromWire({ fpsLimit: 5 }));
    expect(e.path).toBe('config.fpsLimit');
    expect(e.message).toContain('Unknown live option "fpsLimit"; accepted: fps_limit, result_queue_size, score_threshold');
    e = err(() => streamPatchFromWire({ url: 'rtsp://u:p@h/x' }));
    expect(e.path).toBe('config.url');
    e = err(() => streamPatchFromWire({ enable_tracking: 'yes' }));
    expect(e.path).toBe('config.enable_tracking');
    e = err(() => streamPatchFromWire({ score_threshold: 0.5, confidence_threshold: 0.6 }));
    expect(e.message).toBe('config.confidence_threshold: confidence_threshold and score_threshold set the same option (detection.scoreThreshold) to different values');
    e = err(() => streamPatchFromWire('fps_limit=5'));
    expect(e.path).toBe('config');
    // Regression (found by test/unit/property-decoders.test.ts): names every object inherits were taken for wire
    // names (`name in table`) and failed with a TypeError (a 500 on PATCH) instead of a ConfigError.
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      e = err(() => streamPatchFromWire(JSON.parse(`{"${name}": null}`)));
      expect(e.path).toBe(`config.${name}`);
      expect(e.message).toContain(`Unknown live option "${name}"`);
    }
  });

  it("BAD CALL - configureFromWire() names the wire field of a bad value, as the client sent it", () => {
    const s = fakeStream();
    const err = (config: unknown): ConfigError => {
      try {
        configureFromWire(s, config);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    let e = err({ confidence_threshold: 1.5 });
    expect(e.path).toBe('config.confidence_threshold');
    expect(e.message).toBe('config.confidence_threshold: Expected number between 0 and 1 but received 1.5 of type number');
    e = err({ score_threshold: 'high' });
    expect(e.path).toBe('config.score_threshold');
    e = err({ include: [[[0, 0], [1, 1]]] });
    expect(e.path).toBe('config.include[0]');
    e = err({ class_thresholds: { car: 3 } });
    expect(e.path).toBe('config.class_thresholds.car');
    e = err({ fps_limit: -1 });
    expect(e.message).toBe('config.fps_limit: Expected number between 0 and 1000 but received -1 of type number');
    expect(s.options).toEqual(base); // nothing changed
  });
});
