/**
 * FrameTagTable (src/frame-tags.ts), the per-stream table of per-frame tags: a tag comes back for its own frame
 * only, frames without a result release their tags when a later result comes (dropped), a full table releases its
 * oldest (evicted), an ended stream releases the rest; every release counted once; the table never holds more than
 * its capacity. Pure TypeScript. The same table on a real file stream: test/addon/frame-tags.test.ts.
 */
import { describe, expect, it } from 'vitest';

import { checkFrameTag, FRAME_TAG_CAPACITY, FrameTagTable, VIDEO_REORDER_WINDOW } from '../../src/frame-tags.js';

const tag = (seq: number) => ({ frameId: 1000 + seq, messageKey: `${seq}-0`, metadata: { seq } });

describe('FrameTagTable', () => {
  it('gives each delivered frame its own tag, and none to untagged frames', () => {
    const t = new FrameTagTable(8);
    t.set(2, tag(2));
    t.set(5, tag(5));
    expect(t.take(0)).toBeUndefined();
    expect(t.take(1)).toBeUndefined();
    expect(t.take(2)).toEqual(tag(2));
    expect(t.take(3)).toBeUndefined();
    expect(t.take(5)).toEqual(tag(5));
    expect(t.counts()).toEqual({ size: 0, capacity: 8, delivered: 2, dropped: 0, evicted: 0, ended: 0 });
  });

  it('releases the tags of frames that got no result when a later frame is delivered (counted as dropped)', () => {
    const t = new FrameTagTable(8);
    for (const seq of [1, 2, 3, 4, 6]) t.set(seq, tag(seq));
    expect(t.take(4)).toEqual(tag(4)); // 1, 2, 3 were dropped: their results will never come
    expect(t.counts()).toMatchObject({ size: 1, delivered: 1, dropped: 3 });
    expect(t.take(7)).toBeUndefined(); // 6 dropped too
    expect(t.counts()).toMatchObject({ size: 0, delivered: 1, dropped: 4 });
  });

  it('with a reorder window (pushed H.264/HEVC: display order is not push order) takes each tag from where it is', () => {
    const t = new FrameTagTable(64);
    for (let seq = 0; seq < 8; seq++) t.set(seq, tag(seq));
    // I P B B: pushed 0 1 2 3, shown 0 2 3 1.
    for (const seq of [0, 2, 3, 1]) expect(t.take(seq, VIDEO_REORDER_WINDOW)).toEqual(tag(seq));
    expect(t.counts()).toMatchObject({ size: 4, delivered: 4, dropped: 0 });
    // A frame that never comes is released once a result more than the window past it arrives.
    t.set(40, tag(40));
    expect(t.take(6, VIDEO_REORDER_WINDOW)).toEqual(tag(6));
    expect(t.take(40, VIDEO_REORDER_WINDOW)).toEqual(tag(40)); // 4, 5, 7 are more than 32 before 40: dropped
    expect(t.counts()).toMatchObject({ size: 0, delivered: 6, dropped: 3 });
    // Without a window a result releases every earlier tag, as before.
    t.set(41, tag(41));
    t.set(42, tag(42));
    expect(t.take(42)).toEqual(tag(42));
    expect(t.counts()).toMatchObject({ size: 0, delivered: 7, dropped: 4 });
  });

  it('peek() finds a tag without releasing it (a warning about a pushed frame names it)', () => {
    const t = new FrameTagTable(8);
    t.set(3, tag(3));
    t.set(4, tag(4));
    expect(t.peek(4)).toEqual(tag(4));
    expect(t.peek(5)).toBeUndefined();
    expect(t.size).toBe(2);
  });

  it('stays bounded: a full table releases its oldest tag (counted as evicted)', () => {
    const t = new FrameTagTable(3);
    for (let seq = 0; seq < 10; seq++) {
      t.set(seq, tag(seq));
      expect(t.size).toBeLessThanOrEqual(3);
    }
    expect(t.counts()).toMatchObject({ size: 3, evicted: 7 });
    expect(t.take(6)).toBeUndefined(); // evicted
    expect(t.take(7)).toEqual(tag(7));
  });

  it('a long run with a window of tags ahead and most frames dropped keeps the table at the window (no growth)', () => {
    const t = new FrameTagTable(FRAME_TAG_CAPACITY);
    const window = 16;
    for (let seq = 0; seq < window; seq++) t.set(seq, tag(seq));
    let next = window;
    let maxSize = 0;
    for (let seq = 0; seq < 100_000; seq += 5) {
      // Every fifth frame gets a result; the producer keeps `window` frames tagged ahead of it.
      expect(t.take(seq)).toEqual(tag(seq));
      while (next <= seq + window) t.set(next, tag(next++));
      maxSize = Math.max(maxSize, t.size);
    }
    expect(maxSize).toBeLessThanOrEqual(window + 1);
    const c = t.counts();
    expect(c.delivered).toBe(20_000);
    expect(c.evicted).toBe(0);
    expect(c.delivered + c.dropped + c.size).toBe(next);
  });

  it('clear() (the stream ended) releases every tag left, counted as ended', () => {
    const t = new FrameTagTable(8);
    for (const seq of [3, 4, 5]) t.set(seq, tag(seq));
    t.clear();
    expect(t.counts()).toMatchObject({ size: 0, ended: 3 });
    expect(t.take(4)).toBeUndefined();
  });

  it('BAD CALL - a sequence number not above the last tagged or delivered one is a RangeError', () => {
    const t = new FrameTagTable(8);
    t.set(5, tag(5));
    expect(() => t.set(5, tag(5))).toThrow(new RangeError('Expected integer above 5 (the last frame tagged or delivered) for seq but received 5 of type number'));
    expect(() => t.set(4, tag(4))).toThrow(RangeError);
    t.take(9);
    expect(() => t.set(8, tag(8))).toThrow('Expected integer above 9 (the last frame tagged or delivered) for seq but received 8 of type number');
    expect(() => t.set(10.5, tag(10))).toThrow(RangeError);
    expect(() => new FrameTagTable(0)).toThrow('Expected positive integer for capacity but received 0 of type number');
  });
});

describe('checkFrameTag()', () => {
  it('keeps only the fields given', () => {
    expect(checkFrameTag({ frameId: 3 })).toStrictEqual({ frameId: 3 });
    expect(checkFrameTag({ messageKey: '1-0', metadata: { a: 1 } })).toStrictEqual({ messageKey: '1-0', metadata: { a: 1 } });
    expect(checkFrameTag({})).toStrictEqual({});
  });

  it.each([
    [null, TypeError, 'Expected object with frameId, metadata or messageKey for tag but received null'],
    [{ frameId: -1 }, RangeError, 'Expected non-negative integer for tag.frameId but received -1 of type number'],
    [{ frameId: '7' }, RangeError, 'Expected non-negative integer for tag.frameId but received "7" of type string'],
    [{ metadata: [1] }, TypeError, 'Expected object for tag.metadata but received [1] of type array'],
    [{ messageKey: 5 }, TypeError, 'Expected string for tag.messageKey but received 5 of type number'],
    [{ frame_id: 5 }, TypeError, 'Unknown tag field "frame_id"; accepted: frameId, metadata, messageKey'],
  ])('BAD CALL - %j', (value, type, message) => {
    expect(() => checkFrameTag(value)).toThrow(type);
    expect(() => checkFrameTag(value)).toThrow(message);
  });
});
