/**
 * Validation of the standalone Tracker's options (src/tracker.ts normaliseStandaloneTracker): defaults per
 * tracker type, ConfigError with the field's path for bad values, options of another type, and
 * trackBufferSeconds vs the frame-based buffer. Pure TypeScript (the addon is not loaded).
 */
import { describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/errors.js';
import { normaliseStandaloneTracker } from '../../src/tracker.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('normaliseStandaloneTracker()', () => {
  it('fills the reference defaults (ByteTrack 0.5/0.6/0.8/30, SORT max_age 1, min_hits 3, IoU 0.3)', () => {
    expect(normaliseStandaloneTracker({})).toEqual({
      type: 'bytetrack',
      classAware: false,
      frameRate: 30,
      trackBufferSeconds: 0,
      trackThresh: 0.5,
      highThresh: 0.6,
      matchThresh: 0.8,
      trackBuffer: 30,
      maxAge: 1,
      minHits: 3,
      iouThreshold: 0.3,
      greedy: false,
    });
    const sort = normaliseStandaloneTracker({ type: 'sort', maxAge: 5, iouThreshold: 0.4, classAware: true });
    expect([sort.type, sort.maxAge, sort.minHits, sort.iouThreshold, sort.classAware]).toEqual(['sort', 5, 3, 0.4, true]);
    const iou = normaliseStandaloneTracker({ type: 'iou', greedy: true, trackBufferSeconds: 2, frameRate: 12.5 });
    expect([iou.greedy, iou.trackBufferSeconds, iou.frameRate]).toEqual([true, 2, 12.5]);
  });

  it('names the field, the accepted range and the value received', () => {
    let e = configError(() => normaliseStandaloneTracker({ type: 'deepsort' }));
    expect(e.path).toBe('tracker.type');
    expect(e.message).toBe('tracker.type: Expected one of "bytetrack", "sort", "iou" but received "deepsort" of type string');
    e = configError(() => normaliseStandaloneTracker({ trackThresh: 1.5 }));
    expect(e.message).toBe('tracker.trackThresh: Expected number between 0 and 1 but received 1.5 of type number');
    e = configError(() => normaliseStandaloneTracker({ type: 'sort', maxAge: 2.5 }));
    expect(e.path).toBe('tracker.maxAge');
    expect(e.message).toContain('Expected integer between 0 and 100000');
    e = configError(() => normaliseStandaloneTracker({ type: 'iou', minHits: 0 }));
    expect(e.message).toBe('tracker.minHits: Expected integer between 1 and 1000 but received 0 of type number');
    // SORT allows min_hits 0 (its reference does).
    expect(normaliseStandaloneTracker({ type: 'sort', minHits: 0 }).minHits).toBe(0);
    e = configError(() => normaliseStandaloneTracker({ frameRate: 0 }));
    expect(e.path).toBe('tracker.frameRate');
    e = configError(() => normaliseStandaloneTracker({ classAware: 'yes' }));
    expect(e.message).toBe('tracker.classAware: Expected boolean but received "yes" of type string');
    e = configError(() => normaliseStandaloneTracker({ classNames: ['a', 3] }));
    expect(e.path).toBe('tracker.classNames');
    e = configError(() => normaliseStandaloneTracker('sort'));
    expect(e.message).toBe('tracker: Expected object but received "sort" of type string');
  });

  it('rejects options of another tracker type and unknown options', () => {
    let e = configError(() => normaliseStandaloneTracker({ type: 'sort', greedy: true }));
    expect(e.message).toBe('tracker.greedy: Option "greedy" applies to type "iou", not "sort"');
    e = configError(() => normaliseStandaloneTracker({ maxAge: 3 }));
    expect(e.message).toBe('tracker.maxAge: Option "maxAge" applies to type "sort" or "iou", not "bytetrack"');
    e = configError(() => normaliseStandaloneTracker({ type: 'iou', trackBuffer: 3 }));
    expect(e.path).toBe('tracker.trackBuffer');
    e = configError(() => normaliseStandaloneTracker({ maxHits: 3 }));
    expect(e.message).toMatch(/^tracker\.maxHits: Unknown option "maxHits"; accepted for type "bytetrack": type, /);
  });

  it('accepts trackBufferSeconds or the frame-based buffer, not both', () => {
    expect(normaliseStandaloneTracker({ trackBufferSeconds: 1.5 }).trackBufferSeconds).toBe(1.5);
    let e = configError(() => normaliseStandaloneTracker({ trackBufferSeconds: 1, trackBuffer: 30 }));
    expect(e.message).toBe('tracker.trackBufferSeconds: Give either trackBufferSeconds or trackBuffer, not both');
    e = configError(() => normaliseStandaloneTracker({ type: 'sort', trackBufferSeconds: 1, maxAge: 1 }));
    expect(e.message).toContain('trackBufferSeconds or maxAge');
    e = configError(() => normaliseStandaloneTracker({ trackBufferSeconds: 0 }));
    expect(e.path).toBe('tracker.trackBufferSeconds');
  });
});
