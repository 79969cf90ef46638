/**
 * Property tests (fast-check) of the TypeScript decoders of untrusted input — the counterpart of the libFuzzer targets
 * in native/fuzz (test/unit/fuzz.test.ts). For arbitrary input each decoder either returns a value that keeps its
 * documented promises or throws a CamtrackError with an ERR_CAMTRACK_* code; nothing else escapes, and no single call
 * takes long (a generous per-call bound: a hang or a blow-up on a small input fails it). The decoders:
 *   - Redis input entries: parseInputEntry (src/redis/frames.ts), an XREADGROUP entry's fields → a frame or a reason
 *     (it never throws at all);
 *   - session frames: decodeBase64, checkImage, checkJsonFrame, checkFrameId, frameIdOf (src/server/sessions/frames.ts;
 *     the WebSocket `frame` message and POST /stream/process bodies);
 *   - live configuration from wire clients (WebSocket config_update, PATCH /api/v1/cameras/:id):
 *     streamPatchFromWire / configureFromWire onto applyStreamPatch (src/wire/config.ts, src/config/live.ts);
 *   - camera bodies (POST /api/v1/cameras): normaliseCamera (src/config/index.ts);
 *   - the ONNX metadata reader: readModelInfo (src/models/model-info.ts over src/models/onnx-proto.ts) on arbitrary
 *     bytes and on a shared model with bytes of its header and tail changed, plus parsePyLiteral / parseClassNames on
 *     arbitrary metadata text.
 * Inputs that came from JSON are passed through JSON.stringify/JSON.parse, as a server receives them (own
 * `__proto__` keys included). The seed is random per run; a failure prints it with the shrunk counterexample, and
 * CAMTRACK_PROPERTY_SEED=<seed> replays it. CAMTRACK_PROPERTY_RUNS scales the number of runs (default 300 per unit).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StreamOptionsSchema, applyStreamPatch, normaliseCamera, normaliseStream, normaliseTracker } from '../../src/config.js';
import { CamtrackError } from '../../src/errors.js';
import { parseClassNames, parsePyLiteral, readModelInfo } from '../../src/models/model-info.js';
import { parseInputEntry } from '../../src/redis/frames.js';
import { checkFrameId, checkImage, checkJsonFrame, decodeBase64, frameIdOf, sniffImage } from '../../src/server/sessions/frames.js';
import { WIRE_CONFIG_ALIASES, configureFromWire, streamPatchFromWire } from '../../src/wire/config.js';
import { assetPath, requireAssets } from '../helpers/assets.js';

const RUNS = Number(process.env.CAMTRACK_PROPERTY_RUNS ?? 300);
if (process.env.CAMTRACK_PROPERTY_SEED) fc.configureGlobal({ seed: Number(process.env.CAMTRACK_PROPERTY_SEED) });
/** One call on a small input taking longer than this is a hang (generous: a loaded 2-core machine). */
const CALL_MS = 2000;

/** Runs `fn`; returns its value, or undefined when it threw a coded CamtrackError. Anything else fails the property. */
function coded<T>(fn: () => T): T | undefined {
  const t0 = performance.now();
  try {
    return fn();
  } catch (err) {
    if (err instanceof CamtrackError && /^ERR_CAMTRACK_[A-Z_]+$/.test(err.code)) return undefined;
    throw new Error(`threw something other than a coded CamtrackError: ${String((err as Error)?.stack ?? err)}`);
  } finally {
    const ms = performance.now() - t0;
    if (ms > CALL_MS) throw new Error(`one call took ${ms.toFixed(0)} ms`);
  }
}

async function codedAsync<T>(fn: () => Promise<T>): Promise<T | undefined> {
  const t0 = performance.now();
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CamtrackError && /^ERR_CAMTRACK_[A-Z_]+$/.test(err.code)) return undefined;
    throw new Error(`threw something other than a coded CamtrackError: ${String((err as Error)?.stack ?? err)}`);
  } finally {
    const ms = performance.now() - t0;
    if (ms > CALL_MS) throw new Error(`one call took ${ms.toFixed(0)} ms`);
  }
}

/** As a server gets it: through JSON (undefined dropped, own __proto__ keys kept as data). */
const viaJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v) ?? 'null');

/** Object keys that break naive lookups (`name in table`, `obj[name] = …`). */
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'];

const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const imageBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([JPEG_MAGIC, b])),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([PNG_MAGIC, b])),
);

describe('Redis input entries: parseInputEntry (src/redis/frames.ts)', () => {
  const map = { frame: 'frame', frameId: 'frame_id', timestamp: 'timestamp', metadata: 'metadata' };
  const name = fc.oneof(fc.constantFrom(...Object.values(map), ...PROTO_KEYS), fc.string({ maxLength: 12 }));
  const value = fc.oneof(
    imageBytes,
    fc.string({ maxLength: 40 }).map((s) => Buffer.from(s)),
    fc.oneof(fc.integer(), fc.double(), fc.constantFrom('1e308', '-0', ' 7 ', 'NaN', 'Infinity', '0x10', '9007199254740993')).map((n) => Buffer.from(String(n))),
    fc.jsonValue({ maxDepth: 2 }).map((j) => Buffer.from(JSON.stringify(j))),
  );
  // Entry ids come from the server (ms-seq); the fields are whatever a producer wrote, any count (odd ones too).
  const id = fc.tuple(fc.nat(), fc.nat()).map(([ms, seq]) => `${ms}-${seq}`);
  const fields = fc.array(fc.oneof(name.map((s) => Buffer.from(s)), value), { maxLength: 12 });

  it('never throws; a frame has non-empty bytes, a finite time, a frame id that is an integer >= 0, object metadata', () => {
    fc.assert(
      fc.property(id, fields, (entryId, entryFields) => {
        const t0 = performance.now();
        const parsed = parseInputEntry(entryId, entryFields, map);
        expect(performance.now() - t0).toBeLessThan(CALL_MS);
        if (!parsed.ok) {
          expect(typeof parsed.detail).toBe('string');
          expect(parsed.detail.length).toBeGreaterThan(0);
          return;
        }
        const f = parsed.frame;
        expect(f.id).toBe(entryId);
        expect(f.frame.length).toBeGreaterThan(0);
        expect(Number.isFinite(f.timestampMs)).toBe(true);
        if (f.frameId !== undefined) expect(Number.isSafeInteger(f.frameId) && f.frameId >= 0).toBe(true);
        if (f.metadata !== undefined) expect(typeof f.metadata === 'object' && f.metadata !== null && !Array.isArray(f.metadata)).toBe(true);
      }),
      { numRuns: RUNS * 3 },
    );
  });
});

describe('session frames (src/server/sessions/frames.ts)', () => {
  it('decodeBase64: any text is bytes or ERR_CAMTRACK_BAD_FRAME; any bytes round-trip through base64 and base64url', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.base64String({ maxLength: 80 }), fc.string({ maxLength: 40 }).map((s) => `data:image/jpeg;base64,${s}`)), (text) => {
        const out = coded(() => decodeBase64(text));
        if (out !== undefined) expect(Buffer.isBuffer(out)).toBe(true);
      }),
      { numRuns: RUNS * 3 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), fc.boolean(), (bytes, url) => {
        const b = Buffer.from(bytes);
        expect(decodeBase64(b.toString(url ? 'base64url' : 'base64')).equals(b)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('checkImage / checkFrameId / frameIdOf: accepted frames are non-empty, within the limit and of the codec', () => {
    fc.assert(
      fc.property(imageBytes, fc.constantFrom('jpeg' as const, 'png' as const), fc.integer({ min: 1, max: 80 }), (bytes, codec, max) => {
        const ok = coded(() => {
          checkImage(bytes, codec, max);
          return true;
        });
        if (ok) expect(bytes.length > 0 && bytes.length <= max && sniffImage(bytes) === codec).toBe(true);
      }),
      { numRuns: RUNS * 3 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.double(), fc.integer()), (v) => {
        const id = coded(() => checkFrameId(v));
        if (id !== undefined) expect(Number.isSafeInteger(id) && id >= 0).toBe(true);
        const loose = frameIdOf({ frame_id: v });
        expect(loose === null || (Number.isSafeInteger(loose) && loose >= 0)).toBe(true);
        expect(frameIdOf(v)).toSatisfy((x: unknown) => x === null || typeof x === 'number');
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('checkJsonFrame: any JSON frame message is a checked frame or ERR_CAMTRACK_BAD_FRAME', () => {
    const imageData = fc.oneof(
      imageBytes.map((b) => b.toString('base64')),
      imageBytes.map((b) => `data:image/png;base64,${b.toString('base64url')}`),
      fc.string({ maxLength: 60 }),
      fc.jsonValue({ maxDepth: 1 }),
    );
    const message = fc.record(
      { type: fc.constant('frame'), image_data: imageData, frame_id: fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.nat()), timestamp: fc.jsonValue({ maxDepth: 1 }), metadata: fc.jsonValue({ maxDepth: 2 }) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(message, fc.dictionary(fc.constantFrom(...PROTO_KEYS, 'image_data', 'frame_id', 'metadata'), fc.jsonValue({ maxDepth: 2 }))), fc.constantFrom('jpeg' as const, 'png' as const), (m, codec) => {
        const msg = viaJson(m) as Record<string, unknown>;
        if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return;
        let code: string | undefined;
        let frame;
        try {
          frame = checkJsonFrame(msg, codec, 64);
        } catch (err) {
          expect(err).toBeInstanceOf(CamtrackError);
          code = (err as CamtrackError).code;
        }
        if (code !== undefined) {
          expect(code).toBe('ERR_CAMTRACK_BAD_FRAME');
          return;
        }
        expect(frame!.bytes.length).toBeGreaterThan(0);
        expect(frame!.bytes.length).toBeLessThanOrEqual(64);
        expect(sniffImage(frame!.bytes)).toBe(codec);
        if (frame!.frameId !== undefined) expect(Number.isSafeInteger(frame!.frameId) && frame!.frameId >= 0).toBe(true);
      }),
      { numRuns: RUNS * 3 },
    );
  });
});

describe('live configuration and camera bodies from wire clients', () => {
  const tracker = normaliseTracker(undefined, 'tracker');
  const base = normaliseStream({ id: 'cam', url: 'rtsp://h/cam' }, 'stream', tracker);
  const wireNames = [...Object.keys(WIRE_CONFIG_ALIASES), 'enable_tracking'];
  const optionNames = Object.keys(StreamOptionsSchema.properties);
  const nested = ['scoreThreshold', 'classes', 'include', 'exclude', 'minArea', 'maxArea', 'classThresholds', 'type', 'minHits', 'enabled', 'threshold', 'masks', 'interval', 'lines', 'zones'];
  const leaf = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.double(), fc.constantFrom(0, 1, -1, 0.5, 1e9, '50%', 'person', null, true));
  const value = fc.oneof(leaf, fc.dictionary(fc.constantFrom(...nested, ...PROTO_KEYS), leaf, { maxKeys: 4 }));

  it('streamPatchFromWire + applyStreamPatch (WebSocket config_update, PATCH /api/v1/cameras/:id): options or ERR_CAMTRACK_*', () => {
    const body = fc.oneof(fc.dictionary(fc.oneof(fc.constantFrom(...wireNames, ...PROTO_KEYS), fc.string({ maxLength: 8 })), value, { maxKeys: 5 }), fc.jsonValue({ maxDepth: 2 }));
    fc.assert(
      fc.property(body, (b) => {
        const config = viaJson(b);
        coded(() => applyStreamPatch(base, streamPatchFromWire(config), tracker));
        const stream = { configure: (patch: unknown) => applyStreamPatch(base, patch, tracker) };
        const next = coded(() => configureFromWire(stream, config));
        if (next !== undefined) expect(next.id).toBe('cam');
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('normaliseCamera (POST /api/v1/cameras bodies): a camera or ERR_CAMTRACK_*', () => {
    const registry = { models: { default: {} as never }, defaultModel: 'default', tracker };
    const body = fc.oneof(
      fc.dictionary(fc.oneof(fc.constantFrom(...optionNames, 'model', 'feed', ...PROTO_KEYS), fc.string({ maxLength: 8 })), value, { maxKeys: 6 }).map((o) => ({ url: 'rtsp://h/x', ...o })),
      fc.jsonValue({ maxDepth: 3 }),
    );
    fc.assert(
      fc.property(body, (b) => {
        const cam = coded(() => normaliseCamera(viaJson(b), 'camera', registry));
        if (cam !== undefined) expect(cam.model).toBe('default');
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('ONNX metadata reader: readModelInfo (src/models/model-info.ts, src/models/onnx-proto.ts)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'camtrack-prop-onnx-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('arbitrary bytes: model info or ERR_CAMTRACK_MODEL', async () => {
    const file = path.join(dir, 'any.onnx');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), async (bytes) => {
        await writeFile(file, bytes);
        const info = await codedAsync(() => readModelInfo(file));
        if (info !== undefined) expect(typeof info.inputName).toBe('string');
      }),
      { numRuns: RUNS },
    );
  });

  it('a shared model with bytes of its header and tail changed, or cut short: model info or ERR_CAMTRACK_MODEL', async (ctx) => {
    requireAssets(ctx, 'models/yolov8n_int8.onnx');
    const model = readFileSync(assetPath('models/yolov8n_int8.onnx'));
    const file = path.join(dir, 'mutated.onnx');
    // The graph's inputs/outputs and metadata_props sit around the tensor data: change bytes at the start and the end.
    const edit = fc.record({ tail: fc.boolean(), at: fc.nat({ max: 8191 }), byte: fc.integer({ min: 0, max: 255 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 6 }), fc.option(fc.nat({ max: model.length - 1 }), { freq: 4 }), async (edits, cut) => {
        const bytes = Buffer.from(cut === null ? model : model.subarray(0, cut));
        for (const e of edits) {
          const i = e.tail ? bytes.length - 1 - (e.at % bytes.length) : e.at % bytes.length;
          bytes[i] = e.byte;
        }
        await writeFile(file, bytes);
        const info = await codedAsync(() => readModelInfo(file));
        if (info !== undefined) expect(info.outputShapes.length).toBe(info.outputNames.length);
      }),
      { numRuns: Math.max(20, Math.floor(RUNS / 6)) },
    );
  });

  it('parsePyLiteral / parseClassNames: any metadata text is a value or undefined, never a throw', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.array(fc.tuple(fc.nat({ max: 99 }), fc.string({ maxLength: 6 }))).map((kv) => `{${kv.map(([k, v]) => `${k}: '${v}'`).join(', ')}}`),
      fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '(', ')', "'", '"', ':', ',', '\\', '0', 'a', ' '), maxLength: 60 }),
    );
    fc.assert(
      fc.property(text, (t) => {
        const t0 = performance.now();
        parsePyLiteral(t);
        const names = parseClassNames(t);
        expect(performance.now() - t0).toBeLessThan(CALL_MS);
        if (names !== undefined) expect(names.every((n) => typeof n === 'string')).toBe(true);
      }),
      { numRuns: RUNS * 3 },
    );
    // Deeply nested text: the recursive-descent parser must not overflow the stack.
    for (const depth of [1000, 100_000]) {
      expect(() => parsePyLiteral('['.repeat(depth) + ']'.repeat(depth))).not.toThrow();
      expect(() => parseClassNames('{0: ' + '['.repeat(depth))).not.toThrow();
    }
  });
});
