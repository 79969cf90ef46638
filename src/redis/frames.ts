/**
 * The input message format (docs/redis.md, "Input"): one Redis stream entry per frame, the JPEG bytes in one field
 * and a few optional fields around them, named by a field map (`redis.input.fields`, the seed producer's names by
 * default). Parsing never throws: an entry is a frame or a reason why not.
 */
import type { Static } from '@sinclair/typebox';

import type { RedisInputFieldsSchema } from '../config/schema.js';

export type InputFields = Static<typeof RedisInputFieldsSchema>;

/** A frame read from Redis. */
export interface InputFrame {
  /** The entry id (the frame's `messageKey`, on the wire `message_key`). */
  id: string;
  /** The JPEG bytes (a view into the reply, not copied). */
  frame: Buffer;
  frameId?: number;
  /** Capture time (the timestamp field), else the entry id's time, ms since the epoch. */
  timestampMs: number;
  metadata?: Record<string, unknown>;
}

export type ParsedEntry = { ok: true; frame: InputFrame } | { ok: false; detail: string };

/** The time part of an entry id (`1796000000000-3` → 1796000000000), ms since the epoch. */
export function entryTimeMs(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash < 0 ? id : id.slice(0, dash));
}

/** Seconds (time.time()) or, for values past the year 5138, ms: as ms since the epoch. */
function timestampMs(text: string): number | undefined {
  const x = Number(text);
  if (!Number.isFinite(x) || x <= 0 || text.trim() === '') return undefined;
  return x > 1e11 ? x : x * 1000;
}

/**
 * One entry (its id and the flat [field, value, …] list of an xreadgroupBuffer reply) as a frame. Fields the map
 * does not name are ignored. Not a frame (`ok: false`, with what is wrong): no frame field, an empty one, a
 * frame id that is not an integer ≥ 0, metadata that is not a JSON object. A bad timestamp is ignored (the entry
 * id's time is used).
 */
export function parseInputEntry(id: string, fields: readonly Buffer[], map: InputFields): ParsedEntry {
  let frame: Buffer | undefined;
  let frameIdText: string | undefined;
  let timestampText: string | undefined;
  let metadataText: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString('utf8');
    const value = fields[i + 1]!;
    if (name === map.frame) frame = value;
    else if (name === map.frameId) frameIdText = value.toString('utf8');
    else if (name === map.timestamp) timestampText = value.toString('utf8');
    else if (name === map.metadata) metadataText = value.toString('utf8');
  }
  if (frame === undefined) return { ok: false, detail: `no field ${JSON.stringify(map.frame)}` };
  if (frame.length === 0) return { ok: false, detail: `field ${JSON.stringify(map.frame)} is empty` };
  const out: InputFrame = { id, frame, timestampMs: (timestampText !== undefined ? timestampMs(timestampText) : undefined) ?? entryTimeMs(id) };
  if (frameIdText !== undefined) {
    const n = Number(frameIdText);
    if (frameIdText.trim() === '' || !Number.isSafeInteger(n) || n < 0) {
      return { ok: false, detail: `field ${JSON.stringify(map.frameId)} is not an integer ≥ 0: ${JSON.stringify(frameIdText.slice(0, 40))}` };
    }
    out.frameId = n;
  }
  if (metadataText !== undefined) {
    let m: unknown;
    try {
      m = JSON.parse(metadataText);
    } catch {
      m = undefined;
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      return { ok: false, detail: `field ${JSON.stringify(map.metadata)} is not a JSON object` };
    }
    out.metadata = m as Record<string, unknown>;
  }
  return { ok: true, frame: out };
}
