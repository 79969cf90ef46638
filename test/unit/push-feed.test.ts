/**
 * camtrack run's feeds of pushed cameras (src/cli/feed.ts): JPEGs back to back split at their real ends whatever the
 * chunking (an EXIF thumbnail inside one is not the next; bytes that are no JPEG become one bad frame of their own),
 * length-prefixed frames, and the order of a directory's files. Pure TypeScript on the shared images.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { feedFiles, LengthPrefixedSplitter, MjpegSplitter } from '../../src/cli/feed.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

const IMAGES = ['images/bus.jpg', 'images/zidane.jpg', 'images/dog.jpg', 'images/street.jpg'];

/** Feeds `bytes` to a splitter in chunks of the given sizes (cycled), then ends it. */
function split(s: { push(b: Buffer): Buffer[]; end(): Buffer[] }, bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push(...s.push(bytes.subarray(at, at + n)));
    at += n;
  }
  out.push(...s.end());
  return out;
}

describeWithAssets('MjpegSplitter', IMAGES, () => {
  it.each([[[1]], [[7, 1, 300]], [[4096]], [[65536]], [[1 << 24]]])('splits JPEGs back to back into the same JPEGs (chunks of %j bytes)', (sizes) => {
    const jpegs = IMAGES.map((f) => readFileSync(assetPath(f)));
    // bus, dog and street carry an Exif block (dog: APP1 first); the walk skips segments by their length.
    const got = split(new MjpegSplitter(), Buffer.concat([...jpegs, ...jpegs]), sizes);
    expect(got.map((b) => b.length)).toEqual([...jpegs, ...jpegs].map((b) => b.length));
    got.forEach((b, i) => expect(b.equals(jpegs[i % jpegs.length]!)).toBe(true));
  });

  it('bytes that are no JPEG become one frame of their own; a JPEG cut short is given at the end', () => {
    const [bus, zidane] = [readFileSync(assetPath(IMAGES[0]!)), readFileSync(assetPath(IMAGES[1]!))];
    const junk = Buffer.from('junk between frames');
    const cut = zidane.subarray(0, 5000);
    const got = split(new MjpegSplitter(), Buffer.concat([bus, junk, zidane, cut]), [1000]);
    expect(got.map((b) => b.length)).toEqual([bus.length, junk.length, zidane.length, cut.length]);
  });
});

describe('LengthPrefixedSplitter', () => {
  it('splits frames preceded by their 4-byte big-endian length, any chunking, 0-byte frames included', () => {
    const frames = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70000, 7), Buffer.from('last')];
    const bytes = Buffer.concat(frames.flatMap((f) => [Buffer.from([f.length >>> 24, (f.length >>> 16) & 255, (f.length >>> 8) & 255, f.length & 255]), f]));
    for (const sizes of [[1], [3, 5], [1 << 20]]) {
      const got = split(new LengthPrefixedSplitter(), bytes, sizes);
      expect(got.map((b) => b.toString('hex'))).toEqual(frames.map((f) => f.toString('hex')));
    }
  });

  it('BAD CALL - a length over the limit is a RangeError (not length-prefixed input)', () => {
    expect(() => new LengthPrefixedSplitter().push(Buffer.from('\xff\xd8\xff\xe0', 'latin1'))).toThrow(RangeError);
  });
});

describe('feedFiles()', () => {
  it("lists the codec's files in name order, numbers compared as numbers, others skipped", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-feed-'));
    try {
      for (const f of ['10.jpg', '2.jpg', '1.JPEG', 'notes.txt', 'x.png', '2b.jpg']) writeFileSync(path.join(dir, f), 'x');
      expect(await feedFiles(dir, 'jpeg')).toEqual(['1.JPEG', '2.jpg', '2b.jpg', '10.jpg']);
      expect(await feedFiles(dir, 'png')).toEqual(['x.png']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
