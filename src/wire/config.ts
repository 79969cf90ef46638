/**
 * Live configuration from wire clients (docs/wire.md, "Live configuration"): the snake_case names WebSocket/SSE and
 * REST clients send (the design's `config_update: { fps_limit, confidence_threshold, enable_tracking }`, a camera's
 * PATCH) for the live-changeable stream options, mapped to a `stream.configure()` patch. This table is the one place
 * the names are written; test/unit/wire-config.test.ts checks that every live-changeable option has one.
 *
 * Values are passed on as they are: `stream.configure()` validates them with the config schema. Use
 * {@link configureFromWire} to have its ConfigErrors name the wire field (`confidence_threshold`) instead of the
 * option (`stream.detection.scoreThreshold`).
 */
import { ConfigError, redactSecretsIn } from '../errors.js';
import type { StreamOptionsPatch } from '../config/schema.js';
import { isObject } from '../validate.js';

/** Wire name → the stream option it sets (a dotted path below the stream options). */
export const WIRE_CONFIG_ALIASES = {
  fps_limit: 'fpsLimit',
  result_queue_size: 'resultQueueSize',
  score_threshold: 'detection.scoreThreshold',
  confidence_threshold: 'detection.scoreThreshold',
  class_thresholds: 'detection.classThresholds',
  classes: 'detection.classes',
  min_area: 'detection.minArea',
  max_area: 'detection.maxArea',
  include: 'detection.include',
  exclude: 'detection.exclude',
  tracker_type: 'tracker.type',
  track_thresh: 'tracker.trackThresh',
  high_thresh: 'tracker.highThresh',
  match_thresh: 'tracker.matchThresh',
  min_hits: 'tracker.minHits',
  iou_threshold: 'tracker.iouThreshold',
  track_buffer_seconds: 'tracker.trackBufferSeconds',
  class_aware: 'tracker.classAware',
  analytics: 'analytics',
  inference_interval: 'inference.interval',
  motion_enabled: 'motion.enabled',
  motion_threshold: 'motion.threshold',
  motion_min_area: 'motion.minArea',
  motion_masks: 'motion.masks',
  motion_max_skip_seconds: 'motion.maxSkipSeconds',
} as const satisfies Record<string, string>;

/**
 * `enable_tracking` (boolean): false sets tracker.type 'none'; true removes the stream's tracker type (null), so the
 * pipeline's applies again. Not in {@link WIRE_CONFIG_ALIASES} because its value is translated.
 */
export const WIRE_ENABLE_TRACKING = 'enable_tracking';

export type WireConfigName = keyof typeof WIRE_CONFIG_ALIASES | typeof WIRE_ENABLE_TRACKING;
/** A wire client's live configuration: any of the names above; `null` removes the field (back to its default). */
export type WireStreamConfig = Partial<Record<WireConfigName, unknown>>;

const ALIASES: Readonly<Record<string, string>> = WIRE_CONFIG_ALIASES;

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[keys[keys.length - 1]!] = value;
}

function getPath(target: Record<string, unknown>, dotted: string): unknown {
  let o: unknown = target;
  for (const k of dotted.split('.')) o = isObject(o) ? o[k] : undefined;
  return o;
}

/**
 * The `stream.configure()` patch of a wire client's live configuration. `path` names the message in errors
 * (`config` → `config.fps_limit`).
 * @throws ConfigError for an unknown name (the accepted ones listed), a non-boolean enable_tracking, or two names of
 *   one option with different values (score_threshold and confidence_threshold).
 */
export function streamPatchFromWire(config: unknown, path = 'config'): StreamOptionsPatch {
  return translate(config, path).patch;
}

/** The patch, and which wire name set each option (for error paths). */
function translate(config: unknown, path: string): { patch: StreamOptionsPatch; from: Map<string, string> } {
  if (!isObject(config)) throw new ConfigError(path, `Expected object of live options (${Object.keys(ALIASES).join(', ')}, ${WIRE_ENABLE_TRACKING})`);
  const patch: Record<string, unknown> = {};
  const from = new Map<string, string>();
  for (const [name, value] of Object.entries(config)) {
    if (value === undefined) continue;
    let target: string;
    let v = value;
    if (name === WIRE_ENABLE_TRACKING) {
      if (typeof value !== 'boolean') throw new ConfigError(`${path}.${name}`, `Expected boolean but received ${JSON.stringify(value)}`);
      target = 'tracker.type';
      v = value ? null : 'none';
    } else if (Object.hasOwn(ALIASES, name)) {
      // hasOwn, not `in`: `constructor`, `toString`, … are `in` every object (found by test/unit/property-decoders.test.ts).

      target = ALIASES[name]!;
    } else {
      const shown = redactSecretsIn(name);
      throw new ConfigError(
        `${path}.${shown}`,
        `Unknown live option ${JSON.stringify(shown)}; accepted: ${[...Object.keys(ALIASES), WIRE_ENABLE_TRACKING].join(', ')}`,
      );
    }
    const other = from.get(target);
    if (other !== undefined && JSON.stringify(getPath(patch, target)) !== JSON.stringify(v)) {
      throw new ConfigError(`${path}.${name}`, `${name} and ${other} set the same option (${target}) to different values`);
    }
    from.set(target, name);
    setPath(patch, target, v);
  }
  return { patch: patch as StreamOptionsPatch, from };
}

/**
 * The wire name of a stream option's ConfigError path (`stream.detection.scoreThreshold` → `score_threshold`;
 * `stream.detection.include[0]` → `include[0]`), or undefined when it has none. `prefix` is the path the stream had
 * in the error; `used` (option → wire name) picks the name a client sent among several of one option.
 */
export function wireNameOf(configPath: string, prefix = 'stream', used?: ReadonlyMap<string, string>): string | undefined {
  const rest = configPath.startsWith(`${prefix}.`) ? configPath.slice(prefix.length + 1) : configPath;
  const candidates: [string, string][] = [...(used ?? new Map()).entries()].map(([target, name]) => [name, target]);
  candidates.push(...Object.entries(ALIASES));
  for (const [name, target] of candidates) {
    if (rest === target || rest.startsWith(`${target}.`) || rest.startsWith(`${target}[`)) return name + rest.slice(target.length);
  }
  return undefined;
}

/**
 * Applies a wire client's live configuration to a stream (`stream.configure(streamPatchFromWire(config))`); a
 * ConfigError of the stream names the wire field it came from (`config.confidence_threshold: Expected number
 * between 0 and 1 …`). Returns what configure() returns.
 */
export function configureFromWire<R>(stream: { configure(patch: StreamOptionsPatch): R }, config: unknown, path = 'config'): R {
  const { patch, from } = translate(config, path);
  try {
    return stream.configure(patch);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const name = wireNameOf(err.path, 'stream', from);
    if (name === undefined) throw err;
    const message = err.message.slice(err.path.length + 2); // "<path>: <message>"
    throw new ConfigError(`${path}.${name}`, message, err.hint);
  }
}
