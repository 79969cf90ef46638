/**
 * Checks of one frame a session client sent, before any byte crosses into native code: the base64 text (strict: a
 * Buffer.from('…', 'base64') would skip bad characters silently), the size, the image's signature against the
 * session's codec, and the frame's tags (frame_id, metadata). Each failure is a CamtrackError ERR_CAMTRACK_BAD_FRAME
 * with a hint; the session answers it with an error message and counts the frame as dropped (cause `invalid`).
 */
import { CamtrackError, describeValue } from '../../errors.js';
import { isObject } from '../../validate.js';

export type SessionCodec = 'jpeg' | 'png';

/** A frame accepted by the checks: its bytes and the tags it goes into the pipeline with. */
export interface CheckedFrame {
  bytes: Buffer;
  frameId: number | undefined;
  metadata: Record<string, unknown> | undefined;
}

export function badFrame(message: string, hint: string): CamtrackError {
  return new CamtrackError(message, 'ERR_CAMTRACK_BAD_FRAME', { stage: 'session', hint });
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const DATA_URL = /^data:image\/[a-z+.-]+;base64,/i;

/** Strict base64 (standard or URL-safe, padding optional, a `data:image/…;base64,` prefix allowed) → bytes. */
export function decodeBase64(text: string): Buffer {
  const body = text.replace(DATA_URL, '');
  if (body.length % 4 === 1 || !(BASE64.test(body) || BASE64URL.test(body))) {
    throw badFrame('image_data is not valid base64', 'send the image bytes base64-encoded (RFC 4648), or send them as a binary message');
  }
  return Buffer.from(body, BASE64.test(body) ? 'base64' : 'base64url');
}

/** What the first bytes say the image is; undefined when they are no JPEG or PNG. */
export function sniffImage(bytes: Uint8Array): SessionCodec | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  return undefined;
}

/** Throws unless `bytes` is a non-empty image of `codec` within `maxBytes`. */
export function checkImage(bytes: Uint8Array, codec: SessionCodec, maxBytes: number): void {
  if (bytes.length === 0) throw badFrame('the frame is empty (0 bytes)', `send one ${codec.toUpperCase()} image per frame`);
  if (bytes.length > maxBytes) {
    throw badFrame(`the frame is ${bytes.length} bytes, over the limit of ${maxBytes}`, 'send a smaller image (a lower resolution or JPEG quality)');
  }
  const kind = sniffImage(bytes);
  if (kind !== codec) {
    throw badFrame(
      kind ? `the frame is a ${kind.toUpperCase()} image; this session takes ${codec.toUpperCase()}` : `the frame is not a ${codec.toUpperCase()} image`,
      `send ${codec.toUpperCase()} images (the session's codec is set when it is created)`,
    );
  }
}

/** `frame_id` of a message: absent/null, or an integer ≥ 0 (the wire's frame_id). */
export function checkFrameId(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badFrame(`frame_id: Expected integer >= 0 but received ${describeValue(value)}`, 'number the frames with non-negative integers, or leave frame_id out');
  }
  return value;
}

/** The frame_id of a message when it is a valid one (for error messages about that message), else null. */
export function frameIdOf(message: unknown): number | null {
  const v = isObject(message) ? message.frame_id : undefined;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
}

/**
 * A JSON frame (`{ image_data, frame_id, timestamp, metadata }`, the WebSocket `frame` message and the JSON body of
 * POST /stream/process) checked. `timestamp` is accepted and not used: a result's timestamp is the server's.
 */
export function checkJsonFrame(message: Record<string, unknown>, codec: SessionCodec, maxBytes: number): CheckedFrame {
  const frameId = checkFrameId(message.frame_id);
  const { metadata, image_data: data } = message;
  if (metadata !== undefined && metadata !== null && !isObject(metadata)) {
    throw badFrame(`metadata: Expected object but received ${describeValue(metadata)}`, 'send metadata as a JSON object, or leave it out');
  }
  if (typeof data !== 'string') {
    throw badFrame(`image_data: Expected base64 string but received ${describeValue(data)}`, 'put the base64-encoded image in image_data');
  }
  // Cheap bound before decoding: base64 is 4 characters per 3 bytes.
  if (data.length > Math.ceil((maxBytes * 4) / 3) + 4 + 64) {
    throw badFrame(`the frame is about ${Math.floor((data.length * 3) / 4)} bytes, over the limit of ${maxBytes}`, 'send a smaller image');
  }
  const bytes = decodeBase64(data);
  checkImage(bytes, codec, maxBytes);
  return { bytes, frameId, metadata: isObject(metadata) ? metadata : undefined };
}
