/**
 * Just enough JPEG for the Redis path, in JS and without decoding: the picture size from the frame header (SOFn),
 * and a splitter that cuts a byte stream of concatenated JPEGs (ffmpeg's `-f image2pipe -c:v mjpeg` output) into
 * whole pictures. Both walk the marker segments by their lengths and scan only entropy-coded data for the next
 * marker, where 0xFF is always followed by 0x00 (stuffing) or a restart marker, so an 0xFFD9 inside a segment (an
 * EXIF thumbnail) cannot end a picture early.
 */

const SOI = Buffer.from([0xff, 0xd8]);

/** SOF markers that carry the frame size (not DHT C4, JPG C8, DAC CC). */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers without a length: SOI, EOI, RSTn, TEM. */
function isStandalone(marker: number): boolean {
  return marker === 0xd8 || marker === 0xd9 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01;
}

/** The picture size from the first SOFn segment, or undefined when `buf` is not a JPEG (or is cut before it). */
export function jpegSize(buf: Uint8Array): { width: number; height: number } | undefined {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) return undefined;
    const marker = buf[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (isStandalone(marker)) {
      i += 2;
      continue;
    }
    const len = (buf[i + 2]! << 8) | buf[i + 3]!;
    if (len < 2) return undefined;
    if (isSof(marker)) {
      if (i + 9 > buf.length) return undefined;
      const height = (buf[i + 5]! << 8) | buf[i + 6]!;
      const width = (buf[i + 7]! << 8) | buf[i + 8]!;
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    if (marker === 0xda) return undefined; // scan data before any frame header
    i += 2 + len;
  }
  return undefined;
}

/**
 * Cuts concatenated JPEGs into pictures: push() chunks as they come, get every picture completed by them. Bytes
 * before an SOI are skipped. A picture larger than `maxBytes` is an error (a stream that is not MJPEG).
 */
export class JpegSplitter {
  /** Bytes not yet returned: #store[0, #len), grown by doubling (amortised O(1) per byte whatever the chunk size). */
  #store: Buffer = Buffer.alloc(64 * 1024);
  #len = 0;
  /** Where scanning resumes, and the state there. */
  #pos = 0;
  #inScan = false;
  #started = false;
  readonly #maxBytes: number;

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.#maxBytes = maxBytes;
  }

  /** The bytes not yet returned (a view). */
  get #buf(): Buffer {
    return this.#store.subarray(0, this.#len);
  }

  /** Drops the first `n` bytes kept. */
  #consume(n: number): void {
    this.#store.copyWithin(0, n, this.#len);
    this.#len -= n;
  }

  push(chunk: Buffer): Buffer[] {
    if (this.#len + chunk.length > this.#store.length) {
      let size = this.#store.length;
      while (size < this.#len + chunk.length) size *= 2;
      const grown = Buffer.alloc(size);
      this.#store.copy(grown, 0, 0, this.#len);
      this.#store = grown;
    }
    chunk.copy(this.#store, this.#len);
    this.#len += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      const end = this.#scan();
      if (end === undefined) break;
      out.push(Buffer.from(this.#buf.subarray(0, end)));
      this.#consume(end);
      this.#pos = 0;
      this.#inScan = false;
      this.#started = false;
    }
    if (this.#len > this.#maxBytes) throw new RangeError(`Expected a JPEG picture of at most ${this.#maxBytes} bytes in the MJPEG stream`);
    return out;
  }

  /** The end (exclusive) of the picture at the start of #buf when complete, else undefined (state kept). */
  #scan(): number | undefined {
    if (!this.#started) {
      const soi = this.#buf.indexOf(SOI);
      if (soi < 0) {
        this.#consume(Math.max(0, this.#len - 1));
        return undefined;
      }
      this.#consume(soi);
      this.#pos = 2;
      this.#started = true;
    }
    const b = this.#buf;
    let i = this.#pos;
    while (i + 2 <= b.length) {
      if (this.#inScan) {
        if (b[i] !== 0xff) {
          i++;
          continue;
        }
        const next = b[i + 1]!;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
          i += next === 0xff ? 1 : 2;
          continue;
        }
        this.#inScan = false; // a marker ends the scan: EOI, or the next segment of a progressive JPEG
        continue;
      }
      if (b[i] !== 0xff) {
        i++; // garbage between segments: resynchronise
        continue;
      }
      const marker = b[i + 1]!;
      if (marker === 0xff) {
        i++;
        continue;
      }
      if (marker === 0xd9) return i + 2;
      if (isStandalone(marker)) {
        i += 2;
        continue;
      }
      if (i + 4 > b.length) break;
      const len = (b[i + 2]! << 8) | b[i + 3]!;
      if (i + 2 + len > b.length) break;
      i += 2 + len;
      if (marker === 0xda) this.#inScan = true;
    }
    this.#pos = i;
    return undefined;
  }
}
