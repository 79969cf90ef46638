/**
 * Live reconfiguration of a running stream (`stream.configure(patch)`, docs/configuration.md): a patch in the shape
 * of the stream options, merged into the stream's current (normalised) options as a JSON Merge Patch (RFC 7396:
 * objects merge, anything else replaces, `null` removes a field so that its default applies again), validated with
 * the same schema as addStream() (src/config/schema.ts), and refused when it changes a field that is not
 * live-changeable ({@link LIVE_STREAM_FIELDS}).
 */
import { isDeepStrictEqual } from 'node:util';

import { ConfigError, redactSecretsIn } from '../errors.js';
import { fail, isObject } from '../validate.js';
import { normaliseStream } from './index.js';
import {
  LIVE_STREAM_FIELDS,
  StreamOptionsSchema,
  type NormalisedStream,
  type NormalisedTracker,
  type StreamOptionsPatch,
} from './schema.js';

/** RFC 7396 JSON Merge Patch of `patch` onto `target` (neither is modified). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * The options of a running stream after `patch`: validated and complete, like addStream()'s. `current` is the
 * stream's normalised options, `trackerBase` the pipeline's tracker (what a removed tracker field falls back to),
 * `path` names the stream in errors ('stream' → `stream.detection.scoreThreshold`).
 * @throws ConfigError for an unknown option, a bad value (its path, as addStream() words it), or a change of an
 *   option that cannot change on a running stream (the first one's path; the message names every one of them). A
 *   field given with the value it already has is not a change.
 */
export function applyStreamPatch(
  current: NormalisedStream,
  patch: StreamOptionsPatch | unknown,
  trackerBase: NormalisedTracker,
  path = 'stream',
): NormalisedStream {
  if (!isObject(patch)) fail(path, 'object (a patch of the stream options)', patch);
  const known = Object.keys(StreamOptionsSchema.properties);
  for (const k of Object.keys(patch)) {
    if (known.includes(k)) continue;
    const shown = redactSecretsIn(k);
    throw new ConfigError(`${path}.${shown}`, `Unknown option ${JSON.stringify(shown)}; accepted: ${known.join(', ')}`);
  }
  const next = normaliseStream(mergePatch(current, patch), path, trackerBase);
  const fixed = known.filter((k) => !LIVE_STREAM_FIELDS.includes(k) && !isDeepStrictEqual(next[k as keyof NormalisedStream], current[k as keyof NormalisedStream]));
  if (fixed.length > 0) {
    throw new ConfigError(
      `${path}.${fixed[0]}`,
      `${fixed.join(', ')} cannot change on a running stream; live-changeable: ${LIVE_STREAM_FIELDS.join(', ')}`,
      `remove the stream and add it again with the new ${fixed.join(', ')}`,
    );
  }
  return next;
}
