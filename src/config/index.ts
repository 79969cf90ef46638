/**
 * Validation at the boundary against the one schema (./schema.ts): a bad field throws {@link ConfigError} naming its
 * path, the value received and what is accepted, worded from the field's declaration:
 *   `batching.maxWaitMs: Expected integer between 0 and 10000 but received -1 of type number`
 * Everything past this module receives normalised, complete objects (every default filled from the schema).
 *
 * {@link checkAgainst} walks the objects of a schema in declaration order (unknown keys first, as `camtrack run`
 * users mistype names more often than values) and checks each field's value with TypeBox's `Value.Check`, so the
 * first bad field is reported with its own path; the rules a schema cannot say (ids unique, `minHits` of the IoU
 * tracker, `std` non-zero) follow it here.
 */
import { TypeGuard, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

import { ConfigError, redactSecretsIn } from '../errors.js';
import { fail, isObject } from '../validate.js';
import {
  IOU_MIN_HITS,
  PipelineConfigSchema,
  ReconnectOptionsSchema,
  StreamOptionsSchema,
  TrackerFields,
  TrackerOptionsSchema,
  type ModelOptions,
  type NormalisedStream,
  type NormalisedTracker,
  type StreamOptions,
} from './schema.js';

export * from './schema.js';
export { applyStreamPatch, mergePatch } from './live.js';
export { classIdOf, toNativeDetection, type NativeDetectionConfig } from './detection.js';

type Config = typeof PipelineConfigSchema.static;
export interface NormalisedConfig extends Omit<Config, 'model' | 'streams' | 'inference'> {
  model: ModelOptions;
  inference: Omit<Config['inference'], 'intraOpThreads'> & { intraOpThreads: number | undefined };
  /** As given (validated); Pipeline.create() normalises each again when it adds it. */
  streams: StreamOptions[];
}

/** How a ConfigError words what `schema` accepts (`value`: what was received, to pick the item of an array). */
function expected(schema: TSchema, value: unknown): string {
  if (typeof schema.expected === 'string') return schema.expected;
  if (TypeGuard.IsInteger(schema) || TypeGuard.IsNumber(schema)) {
    return `${TypeGuard.IsInteger(schema) ? 'integer' : 'number'} between ${schema.minimum} and ${schema.maximum}`;
  }
  if (TypeGuard.IsBoolean(schema)) return 'boolean';
  if (TypeGuard.IsString(schema)) return schema.minLength ? 'non-empty string' : 'string';
  if (TypeGuard.IsUnion(schema) && schema.anyOf.every((s) => TypeGuard.IsLiteralString(s))) {
    return `one of ${schema.anyOf.map((s) => JSON.stringify(s.const)).join(', ')}`;
  }
  if (TypeGuard.IsTuple(schema)) return `array of ${schema.items?.length ?? 0} finite numbers`;
  if (TypeGuard.IsArray(schema)) {
    // An array of strings whose strings break the item's own rule (a pattern) says that rule.
    const bad = Array.isArray(value) ? value.find((x) => !Value.Check(schema.items, x)) : undefined;
    return typeof bad === 'string' && typeof schema.items.expected === 'string' ? schema.items.expected : 'array of strings';
  }
  return 'object';
}

function sameKind(schema: TSchema, value: unknown): boolean {
  return (TypeGuard.IsObject(schema) && isObject(value)) || (TypeGuard.IsString(schema) && typeof value === 'string');
}

/**
 * Throws ConfigError at the first field of `value` that `schema` rejects. `path` names `value` in the message;
 * its fields are `path.key` (just `key` when path is '') and `path[i]`.
 */
export function checkAgainst(schema: TSchema, value: unknown, path: string): void {
  if (TypeGuard.IsObject(schema) && isObject(value)) {
    const keys = Object.keys(schema.properties);
    for (const k of Object.keys(value)) {
      if (keys.includes(k)) continue;
      // A YAML slip can turn a URL into a key (`- rtsp://u:p@cam/1:`), so the key is quoted redacted.
      const shown = redactSecretsIn(k);
      throw new ConfigError(path ? `${path}.${shown}` : shown, `Unknown option ${JSON.stringify(shown)}; accepted: ${keys.join(', ')}`);
    }
    for (const k of keys) {
      const field = schema.properties[k]!;
      // A field may be left out when it is optional or has a default.
      if (value[k] === undefined && (!schema.required?.includes(k) || 'default' in field)) continue;
      checkAgainst(field, value[k], path ? `${path}.${k}` : k);
    }
    return;
  }
  // Objects keyed by the user (classThresholds): each value is checked with its key in the path.
  if (TypeGuard.IsRecord(schema) && isObject(value)) {
    const [keyPattern, item] = Object.entries(schema.patternProperties)[0]!;
    for (const [k, v] of Object.entries(value)) {
      if (!new RegExp(keyPattern).test(k) || k === '') fail(path, expected(schema, value), value);
      checkAgainst(item, v, `${path}.${redactSecretsIn(k)}`);
    }
    return;
  }
  // Arrays of objects and of arrays (polygons of points): the array's own bounds, then each item with its index in
  // the path.
  if (TypeGuard.IsArray(schema) && (TypeGuard.IsObject(schema.items) || TypeGuard.IsArray(schema.items) || TypeGuard.IsTuple(schema.items)) &&
    Array.isArray(value)) {
    if (value.length < (schema.minItems ?? 0) || value.length > (schema.maxItems ?? Infinity)) fail(path, expected(schema, value), value);
    value.forEach((item, i) => checkAgainst(schema.items, item, `${path}[${i}]`));
    return;
  }
  // A union of a string and an object (model), or of an object and a constant (reconnect): a string or an object is
  // checked against its own branch, so that its message is that branch's.
  const branch = TypeGuard.IsUnion(schema) ? schema.anyOf.find((s) => sameKind(s, value)) : undefined;
  if (branch) return checkAgainst(branch, value, path);
  if (!Value.Check(schema, value)) fail(path, expected(schema, value), value);
}

/** `value` (already checked against `schema`) with every default of the schema filled in, as a new object. */
function withDefaults<T>(schema: TSchema, value: unknown): T {
  return Value.Default(schema, Value.Clone(value)) as T;
}

/**
 * Validates a tracker's options and fills what is left out from `base` (a stream inherits its pipeline's tracker),
 * or from the schema's defaults.
 */
export function normaliseTracker(v: unknown, path: string, base?: NormalisedTracker): NormalisedTracker {
  if (v !== undefined) checkAgainst(TrackerOptionsSchema, v, path);
  const t: NormalisedTracker = base ? { ...base, ...(v as Partial<NormalisedTracker> | undefined) } : withDefaults(TrackerOptionsSchema, v);
  // An inherited minHits is checked too, since a stream may switch the pipeline's tracker type to 'iou'.
  checkIouMinHits(t.type, t.minHits, `${path}.minHits`);
  return t;
}

/** The IoU tracker confirms on the first detection at the earliest: its `minHits` is at least {@link IOU_MIN_HITS}. */
export function checkIouMinHits(type: string, minHits: number | undefined, path: string): void {
  if (type === 'iou' && minHits !== undefined && minHits < IOU_MIN_HITS) {
    fail(path, `integer between ${IOU_MIN_HITS} and ${TrackerFields.minHits.maximum}`, minHits);
  }
}

/** Validates a stream's reconnect policy (`false` → maxAttempts 0). */
export function normaliseReconnect(v: unknown, path: string): NormalisedStream['reconnect'] {
  if (v !== undefined) checkAgainst(StreamOptionsSchema.properties.reconnect, v, path);
  return v === false ? { ...withDefaults(ReconnectOptionsSchema, {}), maxAttempts: 0 } : withDefaults(ReconnectOptionsSchema, v ?? {});
}

/** Validates one stream's options and fills the defaults; `trackerBase` is the pipeline's tracker config. */
export function normaliseStream(v: unknown, path: string, trackerBase: NormalisedTracker): NormalisedStream {
  checkAgainst(StreamOptionsSchema, v, path);
  const s = v as StreamOptions;
  return {
    ...withDefaults<NormalisedStream>(StreamOptionsSchema, s),
    tracker: normaliseTracker(s.tracker, `${path}.tracker`, trackerBase),
    reconnect: normaliseReconnect(s.reconnect, `${path}.reconnect`),
  };
}

/** The optional sections, where `null` (a YAML key with every option commented out) reads as absent. */
const SECTIONS = ['inference', 'batching', 'detection', 'ingest', 'gpu'] as const;

/** Validates and fills defaults. Throws ConfigError with the path of the first bad field. */
export function normaliseConfig(input: unknown): NormalisedConfig {
  if (!isObject(input)) fail('config', 'object', input);
  const v = { ...input };
  for (const k of SECTIONS) if (v[k] === null) delete v[k];
  checkAgainst(PipelineConfigSchema, v, '');
  const c = withDefaults<Config>(PipelineConfigSchema, v);
  if (typeof c.model === 'object' && c.model.std?.some((x) => x === 0)) fail('model.std', 'non-zero values', c.model.std);
  const tracker = normaliseTracker(c.tracker, 'tracker');
  // Streams are normalised again (with their ids checked against the running ones) when added.
  const ids = new Set<string>();
  const streams = (v.streams ?? []) as StreamOptions[];
  streams.forEach((s, i) => {
    const n = normaliseStream(s, `streams[${i}]`, tracker);
    if (ids.has(n.id)) throw new ConfigError(`streams[${i}].id`, `Duplicate stream id ${JSON.stringify(redactSecretsIn(n.id))}`);
    ids.add(n.id);
  });
  return {
    ...c,
    model: typeof c.model === 'string' ? { path: c.model } : c.model,
    inference: { ...c.inference, intraOpThreads: c.inference.intraOpThreads },
    tracker,
    streams,
  };
}
