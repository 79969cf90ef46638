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
  CameraOptionsSchema,
  CameraRegistryConfigSchema,
  DEFAULT_MODEL_NAME,
  IOU_MIN_HITS,
  PipelineConfigSchema,
  ReconnectOptionsSchema,
  RedisOptionsSchema,
  OutputsOptionsSchema,
  ServeOptionsSchema,
  StreamOptionsSchema,
  TrackerFields,
  TrackerOptionsSchema,
  type CameraOptions,
  type CameraRegistryConfig,
  type FeedOptions,
  type ModelOptions,
  type NormalisedRedisOptions,
  type NormalisedOutputsOptions,
  type NormalisedServeOptions,
  type NormalisedStream,
  type NormalisedTracker,
  type StreamOptions,
} from './schema.js';
import { normaliseAnalytics } from './analytics.js';

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
  // Objects keyed by the user (`models`, classThresholds): each key against the key pattern, each value against its
  // schema with its key in the path.
  if (TypeGuard.IsRecord(schema) && isObject(value)) {
    const [pattern, item] = Object.entries(schema.patternProperties)[0]!;
    const keys = Object.keys(value);
    if (keys.length < (schema.minProperties ?? 0)) fail(path, expected(schema, value), value);
    const name = new RegExp(pattern);
    for (const k of keys) {
      const at = `${path}.${redactSecretsIn(k)}`;
      if (!name.test(k) || k === '') fail(at, `a name matching ${pattern}`, k);
      checkAgainst(item, value[k], at);
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

/**
 * The rules of `input` (the schema's INPUT_RULES, with messages naming the field): 'url' needs `url` and takes no
 * `codec`; 'push' needs `codec`, takes no `url` and decodes on the CPU (no `decode: 'gpu'`).
 */
function checkInput(options: StreamOptions, path: string): void {
  // As given (checked against the schema, not yet against these rules): any of the fields may be there or not.
  const s = options as { input?: string; url?: string; codec?: string; decode?: string };
  if (s.input === 'push') {
    if (s.codec === undefined) fail(`${path}.codec`, `one of "jpeg", "png", "h264", "hevc" (input 'push' needs it)`, s.codec);
    if (s.url !== undefined) {
      throw new ConfigError(`${path}.url`, "url is not used with input 'push' (frames come from stream.push()); leave it out");
    }
    if (s.decode === 'gpu') {
      throw new ConfigError(`${path}.decode`, "pushed frames (input 'push') are decoded on the CPU: decode 'gpu' is not available for them", "use decode 'auto' or 'cpu'");
    }
  } else {
    if (s.url === undefined) fail(`${path}.url`, 'non-empty string', s.url);
    if (s.codec !== undefined) {
      throw new ConfigError(`${path}.codec`, "codec is only for input 'push' (a url's codec is read from the stream)", "leave it out, or set input 'push'");
    }
  }
}

/** Validates one stream's options and fills the defaults; `trackerBase` is the pipeline's tracker config. */
export function normaliseStream(v: unknown, path: string, trackerBase: NormalisedTracker): NormalisedStream {
  checkAgainst(StreamOptionsSchema, v, path);
  const s = v as StreamOptions;
  checkInput(s, path);
  const analytics = s.analytics === undefined ? undefined : normaliseAnalytics(s.analytics, `${path}.analytics`);
  return {
    ...withDefaults<NormalisedStream>(StreamOptionsSchema, s),
    ...(analytics ? { analytics } : {}),
    tracker: normaliseTracker(s.tracker, `${path}.tracker`, trackerBase),
    reconnect: normaliseReconnect(s.reconnect, `${path}.reconnect`),
  };
}

/** The optional sections, where `null` (a YAML key with every option commented out) reads as absent. */
const SECTIONS = ['inference', 'batching', 'detection', 'ingest', 'gpu'] as const;

/** A copy of a config object (checked to be one) with its `null` sections left out. */
function withoutNullSections(input: unknown): Record<string, unknown> {
  if (!isObject(input)) fail('config', 'object', input);
  const v = { ...input };
  for (const k of SECTIONS) if (v[k] === null) delete v[k];
  return v;
}

/** A model (checked against its schema) as options: `{ path }` for a bare path; `std` must be non-zero. */
function normaliseModel(m: string | ModelOptions, path: string): ModelOptions {
  if (typeof m === 'string') return { path: m };
  if (m.std?.some((x) => x === 0)) fail(`${path}.std`, 'non-zero values', m.std);
  return m;
}

/** Validates and fills defaults. Throws ConfigError with the path of the first bad field. */
export function normaliseConfig(input: unknown): NormalisedConfig {
  const v = withoutNullSections(input);
  checkAgainst(PipelineConfigSchema, v, '');
  const c = withDefaults<Config>(PipelineConfigSchema, v);
  const model = normaliseModel(c.model, 'model');
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
    model,
    inference: { ...c.inference, intraOpThreads: c.inference.intraOpThreads },
    tracker,
    streams,
  };
}

/** A camera registry's config, validated: what CameraRegistry needs to start its pipelines and cameras. */
export interface NormalisedRegistryConfig {
  /** What every model's pipeline is created with besides its model: the config as given (validated) less `model`, `models` and `streams`. */
  pipeline: Omit<CameraRegistryConfig, 'model' | 'models' | 'streams'>;
  /** The models by name, in the order given; the top-level `model` is {@link DEFAULT_MODEL_NAME}. */
  models: Record<string, ModelOptions>;
  /** The model of cameras that name none: the top-level `model`, else the only model; undefined when neither. */
  defaultModel: string | undefined;
  /** The pipelines' tracker (a camera's tracker options override it). */
  tracker: NormalisedTracker;
  /** The cameras to start with (`streams`), validated. */
  cameras: NormalisedCamera[];
  /** The `redis` section with its defaults filled, when the config has one (the registry does not use it). */
  redis: NormalisedRedisOptions | undefined;
  /** `camtrack serve`'s section with its defaults filled (every default without one; the registry does not use it). */
  serve: NormalisedServeOptions;
  /** Where analytics events go (webhooks, MQTT), defaults filled (the registry does not use it). */
  outputs: NormalisedOutputsOptions;
}

/**
 * A camera's options, validated: its model's name, the stream options as given (without `model` and `feed`),
 * normalised, and `camtrack run`'s feed of a pushed camera.
 */
export interface NormalisedCamera {
  model: string;
  options: StreamOptions;
  stream: NormalisedStream;
  feed?: FeedOptions;
}

/**
 * Validates a camera registry's config (`camtrack run`'s file): the pipeline options, `model` and/or `models`, and
 * the cameras with their model names (ids unique across all models). Throws ConfigError with the path of the first
 * bad field.
 */
export function normaliseRegistryConfig(input: unknown): NormalisedRegistryConfig {
  const v = withoutNullSections(input);
  // A `redis:` key with every option commented out (YAML null) is Redis with its defaults.
  if (v.redis === null) v.redis = {};
  checkAgainst(CameraRegistryConfigSchema, v, '');
  const { model, models, streams, redis, serve, outputs, ...pipeline } = v as CameraRegistryConfig;
  if (model === undefined && models === undefined) {
    fail('model', 'model file path (string) or { path, ... }, or named models in `models`', model);
  }
  const byName: Record<string, ModelOptions> = {};
  if (model !== undefined) byName[DEFAULT_MODEL_NAME] = normaliseModel(model, 'model');
  for (const [name, m] of Object.entries(models ?? {})) {
    if (name in byName) {
      throw new ConfigError(
        `models.${name}`,
        `"${name}" is the name of the top-level model; rename this entry or leave out the top-level model`,
      );
    }
    byName[name] = normaliseModel(m, `models.${name}`);
  }
  const names = Object.keys(byName);
  const registry: NormalisedRegistryConfig = {
    pipeline,
    models: byName,
    defaultModel: model !== undefined ? DEFAULT_MODEL_NAME : names.length === 1 ? names[0] : undefined,
    tracker: normaliseTracker(pipeline.tracker, 'tracker'),
    cameras: [],
    redis: redis === undefined ? undefined : normaliseRedisOptions(redis, 'redis'),
    serve: normaliseServeOptions(serve ?? {}, 'serve'),
    outputs: normaliseOutputs(outputs, 'outputs'),
  };
  const ids = new Set<string>();
  (streams ?? []).forEach((s, i) => {
    const camera = normaliseCamera(s, `streams[${i}]`, registry);
    const { id } = camera.stream;
    if (camera.feed?.stdin !== undefined && registry.cameras.some((c) => c.feed?.stdin !== undefined)) {
      throw new ConfigError(`streams[${i}].feed.stdin`, 'only one camera can read its frames from stdin');
    }
    if (ids.has(id)) throw new ConfigError(`streams[${i}].id`, `Duplicate stream id ${JSON.stringify(redactSecretsIn(id))}`);
    ids.add(id);
    registry.cameras.push(camera);
  });
  return registry;
}

/**
 * Validates a `redis` section (ConfigError naming the field) and fills its defaults. `{}` is every default
 * (redis://127.0.0.1:6379, camera_{id}_output, no event streams).
 */
export function normaliseRedisOptions(v: unknown, path = 'redis'): NormalisedRedisOptions {
  checkAgainst(RedisOptionsSchema, v, path);
  return withDefaults<NormalisedRedisOptions>(RedisOptionsSchema, v);
}

/** Validates an `outputs` section (webhooks, MQTT; ConfigError naming the field) and fills its defaults. */
export function normaliseOutputs(v: unknown, path = 'outputs'): NormalisedOutputsOptions {
  checkAgainst(OutputsOptionsSchema, v ?? {}, path);
  return withDefaults<NormalisedOutputsOptions>(OutputsOptionsSchema, v ?? {});
}

/** Validates a `serve` section (ConfigError naming the field) and fills its defaults. */
export function normaliseServeOptions(v: unknown, path = 'serve'): NormalisedServeOptions {
  checkAgainst(ServeOptionsSchema, v, path);
  return withDefaults<NormalisedServeOptions>(ServeOptionsSchema, v);
}

/**
 * Validates one camera's options against a registry's models (an unknown or missing model name is a ConfigError at
 * `<path>.model` naming the known ones) and normalises its stream options (the pipelines' tracker as their base).
 */
export function normaliseCamera(
  v: unknown,
  path: string,
  registry: Pick<NormalisedRegistryConfig, 'models' | 'defaultModel' | 'tracker'>,
): NormalisedCamera {
  checkAgainst(CameraOptionsSchema, v, path);
  const { model, feed, ...options } = v as CameraOptions;
  const name = model ?? registry.defaultModel;
  if (name === undefined || !Object.hasOwn(registry.models, name)) {
    const known = Object.keys(registry.models).map((n) => JSON.stringify(n));
    fail(`${path}.model`, `one of ${known.join(', ')} (the names in models)`, model);
  }
  const stream = normaliseStream(options, path, registry.tracker);
  if (feed !== undefined) {
    if (stream.input !== 'push') {
      throw new ConfigError(`${path}.feed`, "feed is only for input 'push' (camtrack run pushes the frames it reads into the camera)");
    }
    if ((feed.dir === undefined) === (feed.stdin === undefined)) fail(`${path}.feed`, 'object with either dir or stdin', feed);
  }
  return { model: name, options: options as StreamOptions, stream, ...(feed !== undefined ? { feed } : {}) };
}
