/**
 * The pure parts of the Redis path, no server: key patterns (fill in, read the id back, SCAN glob), the input entry
 * format (src/redis/frames.ts), the JPEG header reader and the MJPEG splitter (src/sources/jpeg.ts) on real JPEGs
 * of the shared assets, and the secret scrubbing of Redis errors (src/redis/client.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { redisEndpoint, redisError, scrubSecrets } from '../../src/redis/client.js';
import { entryTimeMs, parseInputEntry } from '../../src/redis/frames.js';
import { keyGlob, keyIdMatcher, redisKey } from '../../src/redis/keys.js';
import { JpegSplitter, jpegSize } from '../../src/sources/jpeg.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

const FIELDS = { frame: 'frame', frameId: 'frame_id', timestamp: 'timestamp', metadata: 'metadata' };
const b = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s) : s);
const flat = (...kv: (string | Buffer)[]): Buffer[] => kv.map(b);

describe('key patterns', () => {
  it('fills in {id}, reads the id back from a key, and makes the SCAN glob', () => {
    expect(redisKey('camera_{id}_input', 'door-1')).toBe('camera_door-1_input');
    expect(redisKey('inference_consumer_{id}', 'x')).toBe('inference_consumer_x');
    expect(redisKey('shared_group', 'x')).toBe('shared_group');
    const id = keyIdMatcher('camera_{id}_input');
    expect(id('camera_door_input')).toBe('door');
    expect(id('camera_a_b_input')).toBe('a_b');
    expect(id('camera__input')).toBeUndefined();
    expect(id('camera_door_output')).toBeUndefined();
    expect(keyIdMatcher('cams.{id}.frames')('camsXdoorXframes')).toBeUndefined(); // '.' is literal
    expect(keyIdMatcher('{id}:in:{id}')('a:in:a')).toBe('a');
    expect(keyIdMatcher('{id}:in:{id}')('a:in:b')).toBeUndefined();
    expect(keyGlob('camera_{id}_input')).toBe('camera_*_input');
    expect(keyGlob('cam[1]*{id}?')).toBe('cam\\[1\\]\\**\\?');
  });
});

describe('parseInputEntry() (the input message format)', () => {
  it('reads the seed fields; unknown fields are ignored; no timestamp: the entry id time', () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0, 0xff]);
    const p = parseInputEntry('1796000000123-4', flat('camera_id', 'door', 'frame', jpeg, 'frame_id', '12', 'metadata', '{"a":[1]}', 'width', '640'), FIELDS);
    expect(p).toEqual({ ok: true, frame: { id: '1796000000123-4', frame: jpeg, frameId: 12, timestampMs: 1796000000123, metadata: { a: [1] } } });
    expect(entryTimeMs('1796000000123-4')).toBe(1796000000123);
  });

  it('timestamp: float seconds (time.time()), or milliseconds above 1e11; a bad one falls back to the entry id', () => {
    const at = (ts: string): number => (parseInputEntry('5-0', flat('frame', 'x', 'timestamp', ts), FIELDS) as { frame: { timestampMs: number } }).frame.timestampMs;
    expect(at('1796000000.5')).toBe(1796000000500);
    expect(at('1796000000500')).toBe(1796000000500);
    expect(at('soon')).toBe(5);
    expect(at('')).toBe(5);
  });

  it('EXPECTED FAILURE - not a frame: no frame field, an empty one, a bad frame id, metadata that is not an object', () => {
    expect(parseInputEntry('1-0', flat('image', 'x'), FIELDS)).toEqual({ ok: false, detail: 'no field "frame"' });
    expect(parseInputEntry('1-0', flat('frame', ''), FIELDS)).toEqual({ ok: false, detail: 'field "frame" is empty' });
    expect(parseInputEntry('1-0', flat('frame', 'x', 'frame_id', '-1'), FIELDS)).toMatchObject({ ok: false, detail: expect.stringContaining('frame_id') });
    expect(parseInputEntry('1-0', flat('frame', 'x', 'frame_id', '1.5'), FIELDS)).toMatchObject({ ok: false });
    expect(parseInputEntry('1-0', flat('frame', 'x', 'metadata', '[1]'), FIELDS)).toEqual({ ok: false, detail: 'field "metadata" is not a JSON object' });
  });
});

describeWithAssets('JPEG without decoding', ['images/bus.jpg', 'images/zidane.jpg', 'images/dog.jpg'], () => {
  const files = ['images/bus.jpg', 'images/zidane.jpg', 'images/dog.jpg'];
  it('jpegSize() reads the SOF of real JPEGs; anything else is undefined', () => {
    // SOURCES.md sizes.
    expect(jpegSize(readFileSync(assetPath('images/bus.jpg')))).toEqual({ width: 810, height: 1080 });
    expect(jpegSize(readFileSync(assetPath('images/zidane.jpg')))).toEqual({ width: 1280, height: 720 });
    expect(jpegSize(Buffer.from('GIF89a'))).toBeUndefined();
    expect(jpegSize(readFileSync(assetPath('images/bus.jpg')).subarray(0, 20))).toBeUndefined();
  });

  it('JpegSplitter cuts concatenated JPEGs fed in any chunk sizes back into the same pictures', () => {
    const pics = files.map((f) => readFileSync(assetPath(f)));
    const stream = Buffer.concat([Buffer.from('junk'), ...pics, ...pics]);
    for (const chunk of [1, 7, 4096, 65536, stream.length]) {
      const s = new JpegSplitter();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += chunk) out.push(...s.push(stream.subarray(i, i + chunk)));
      expect(out.length, `chunk ${chunk}`).toBe(6);
      out.forEach((p, k) => expect(p.equals(pics[k % 3]!), `chunk ${chunk} picture ${k}`).toBe(true));
    }
  });
});

describe('Redis URLs and errors', () => {
  it('the URL is shown redacted; every spelling of the password is scrubbed from messages', () => {
    const e = redisEndpoint('redis://app:p%40ss%3Aword@cache:6380/2');
    expect(e.shown).toBe('redis://***@cache:6380/2');
    expect(e.secrets).toEqual(expect.arrayContaining(['p%40ss%3Aword', 'p@ss:word']));
    expect(scrubSecrets('AUTH failed for p@ss:word (p%40ss%3Aword)', e)).toBe('AUTH failed for *** (***)');
    const err = redisError(new Error('WRONGPASS invalid username-password pair'), e, 'connect');
    expect(err.message).toBe('Redis redis://***@cache:6380/2: connect: WRONGPASS invalid username-password pair');
    expect(err.code).toBe('ERR_CAMTRACK_REDIS');
    expect(err.hint).toMatch(/password/);
    expect(redisEndpoint('rediss://h:1').tls).toBe(true);
    expect(redisEndpoint('redis://h:1/?password=hunter22').secrets).toContain('hunter22');
  });
});
