/**
 * The pure parts of the detection sessions (src/server/sessions/): the bounded outbox (drop-oldest, result
 * accounting, SSE replay with Last-Event-ID), the token-bucket rate limit, and the frame checks that run before any
 * byte crosses into native code. The e2e tests (test/e2e/sessions-*.test.ts) run them against a real server.
 */
import { describe, expect, it } from 'vitest';

import { checkImage, checkJsonFrame, decodeBase64, frameIdOf, sniffImage } from '../../src/server/sessions/frames.js';
import { Outbox, RateLimiter } from '../../src/server/sessions/outbox.js';
import { resolveSessionLimits, sessionMaxMessageBytes } from '../../src/server/sessions/table.js';

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);

describe('Outbox', () => {
  it('keeps the newest `capacity` messages; results that leave unwritten are counted, errors are not', () => {
    const o = new Outbox(3, false);
    for (let i = 0; i < 5; i++) o.add(`r${i}`, true);
    o.add('e', false);
    expect(o.pending).toBe(3);
    expect(o.resultsDropped).toBe(3); // r0, r1, r2
    expect([o.take()?.text, o.take()?.text, o.take()?.text, o.take()]).toEqual(['r3', 'r4', 'e', undefined]);
    expect(o.resultsSent).toBe(2);
    expect(o.pending).toBe(0);
    o.add('r5', true);
    expect(o.take()).toMatchObject({ id: 7, text: 'r5' });
  });

  it('SSE (keepSent): replays after Last-Event-ID within the window, counts each result sent once', () => {
    const o = new Outbox(4, true);
    for (let i = 1; i <= 3; i++) o.add(`r${i}`, true);
    expect([o.take()?.id, o.take()?.id, o.take()?.id]).toEqual([1, 2, 3]);
    expect(o.resultsSent).toBe(3);
    o.add('r4', true);
    expect(o.resume(1)).toBe(true);
    expect([o.take()?.id, o.take()?.id, o.take()?.id, o.take()]).toEqual([2, 3, 4, undefined]);
    expect(o.resultsSent).toBe(4); // 2 and 3 were replayed, not sent anew
    for (let i = 5; i <= 8; i++) o.add(`r${i}`, true); // the window now holds 5..8; 5..8 unsent
    expect(o.resultsDropped).toBe(0); // 1..4 left the window after being sent
    expect(o.resume(2)).toBe(false); // 3 and 4 are gone
    expect(o.take()?.id).toBe(5);
    expect(o.resume(undefined)).toBe(true); // no id: go on after the last written
    expect(o.take()?.id).toBe(6);
  });
});

describe('RateLimiter', () => {
  it('passes fps per second with a bucket of max(2, fps/4); 0 = no limit', () => {
    const r = new RateLimiter(2);
    const t0 = performance.now();
    const passed = [...Array(20).keys()].filter(() => r.take(t0)).length;
    expect(passed).toBe(2); // the bucket
    expect(r.take(t0 + 499)).toBe(false);
    expect(r.take(t0 + 501)).toBe(true); // one token per 500 ms
    const fast = new RateLimiter(40);
    expect([...Array(20).keys()].filter(() => fast.take(t0)).length).toBe(10);
    const none = new RateLimiter(0);
    expect([...Array(100).keys()].every(() => none.take(t0))).toBe(true);
  });
});

describe('frame checks', () => {
  it('decodeBase64 is strict: standard, URL-safe, unpadded and data: URLs pass; anything else is ERR_CAMTRACK_BAD_FRAME', () => {
    expect(decodeBase64(JPEG.toString('base64'))).toEqual(JPEG);
    expect(decodeBase64(JPEG.toString('base64url'))).toEqual(JPEG);
    expect(decodeBase64(`data:image/jpeg;base64,${JPEG.toString('base64')}`)).toEqual(JPEG);
    for (const bad of ['%%%', 'abc d', 'a', 'ab=c']) expect(() => decodeBase64(bad)).toThrow(expect.objectContaining({ code: 'ERR_CAMTRACK_BAD_FRAME' }));
  });

  it('sniffImage / checkImage: signature against the codec, empty and oversized frames', () => {
    expect(sniffImage(JPEG)).toBe('jpeg');
    expect(sniffImage(PNG)).toBe('png');
    expect(sniffImage(Buffer.from('GIF89a'))).toBeUndefined();
    expect(() => checkImage(JPEG, 'jpeg', 100)).not.toThrow();
    expect(() => checkImage(PNG, 'jpeg', 100)).toThrow(/PNG image; this session takes JPEG/);
    expect(() => checkImage(Buffer.alloc(0), 'jpeg', 100)).toThrow(/empty/);
    expect(() => checkImage(JPEG, 'jpeg', 4)).toThrow(/over the limit of 4/);
  });

  it('checkJsonFrame: tags checked, frame_id an integer >= 0, metadata an object', () => {
    const image_data = JPEG.toString('base64');
    expect(checkJsonFrame({ image_data, frame_id: 3, metadata: { a: 1 }, timestamp: 1.5 }, 'jpeg', 100)).toEqual({ bytes: JPEG, frameId: 3, metadata: { a: 1 } });
    expect(() => checkJsonFrame({ image_data, frame_id: 1.5 }, 'jpeg', 100)).toThrow(/frame_id/);
    expect(() => checkJsonFrame({ image_data, frame_id: '7' }, 'jpeg', 100)).toThrow(/frame_id/);
    expect(() => checkJsonFrame({ image_data, metadata: [1] }, 'jpeg', 100)).toThrow(/metadata/);
    expect(() => checkJsonFrame({ frame_id: 1 }, 'jpeg', 100)).toThrow(/image_data/);
    expect(frameIdOf({ frame_id: 4 })).toBe(4);
    expect(frameIdOf({ frame_id: -4 })).toBeNull();
  });

  it('limits: defaults, a bad or unknown one is a ConfigError naming it', () => {
    expect(resolveSessionLimits().idleTimeoutMs).toBe(300_000);
    expect(() => resolveSessionLimits({ maxSessions: 0 })).toThrow(/limits.maxSessions/);
    expect(() => resolveSessionLimits({ nope: 1 } as never)).toThrow(/limits.nope/);
    expect(sessionMaxMessageBytes({ maxFrameBytes: 3000 })).toBe(4000 + 64 * 1024);
  });
});
