/**
 * A camera as the Redis source (src/sources/redis.ts) holds it: its keys, its reader, its entries in flight and its
 * counters; plus the small helpers on entry ids and XINFO replies the source, its readers and the trimming share.
 */
import type { Reader } from './redis-reader.js';

/** Why an entry was acknowledged without a result (or left pending). */
export interface SourceDrops {
  /** Older than maxFrameAgeMs when read. */
  stale: number;
  /** Not a frame: no frame field, an empty one, a bad frame id or metadata. */
  malformed: number;
  /** The processor could not decode it (not a JPEG, corrupt). */
  decode: number;
  /** Handed to the pipeline, no result: a later frame's result came first (busy, fps limit, inference failed). */
  pipeline: number;
  /** Its result could not be written (the sink refused or dropped it); left pending, claimed again later. */
  unwritten: number;
  /** Claimed by XAUTOCLAIM but already deleted from the stream (trimmed before anyone processed it). */
  deleted: number;
  /** Its write was refused: the camera's lease had moved to another worker (left pending for it). */
  fenced: number;
}

export const zeroDrops = (): SourceDrops => ({ stale: 0, malformed: 0, decode: 0, pipeline: 0, unwritten: 0, deleted: 0, fenced: 0 });

export type Fields = Buffer[];
export type Entries = [Buffer, Fields][];

export interface Camera {
  readonly id: string;
  readonly key: string;
  readonly group: string;
  readonly reader: Reader;
  /** Entries handed to the processor and not settled yet, in hand-over order, with the lease value they were read under. */
  processing: { id: string; fence: string | undefined }[];
  /** Entries settled whose result (and XACK) is being written. */
  writing: number;
  /** Group exists (created or found); false after NOGROUP until created again. */
  ready: boolean;
  /** Own pending entries still to read again (at start): the id to read after; undefined once done. */
  history: string | undefined;
  /** XAUTOCLAIM cursor. */
  claimCursor: string;
  /** Just leased: every entry pending in the group (any consumer) is claimed before new ones are read. */
  claimAll: boolean;
  /** Being read (leases: while leased; else from addCamera on). */
  active: boolean;
  /** The lease value that fences its writes (leases only). */
  fence: string | undefined;
  read: number;
  claimed: number;
  processed: number;
  acked: number;
  dropped: SourceDrops;
  /** Lease acquisitions of this camera by this worker. */
  leased: number;
  /** Causes already warned about. */
  warned: Set<string>;
  removed: boolean;
}

/** FNV-1a of a camera id: its reader. */
export function hash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export { xinfoField } from '../redis/trim.js';

