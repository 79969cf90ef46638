/**
 * A stream's detection options (StreamDetectionOptionsSchema) in the form native code takes them
 * (native/binding/configure.cpp): class labels resolved to class ids with the model's labels, area bounds split into
 * square pixels and fractions of the frame, polygons flattened. Pure: no addon needed.
 */
import { ConfigError } from '../errors.js';
import type { NormalisedStreamDetection } from './schema.js';

/** NativeStreamConfig.detection: complete, every field required by the binding. */
export interface NativeDetectionConfig {
  scoreThreshold: number;
  /** Flat [classId, threshold, classId, threshold, …]. */
  classThresholds: number[];
  /** Allow-list of class ids; [] = every class. */
  classes: number[];
  minAreaPx: number;
  minAreaFraction: number;
  /** +Infinity: no bound. */
  maxAreaPx: number;
  maxAreaFraction: number;
  /** Each polygon flat: [x0, y0, x1, y1, …]. */
  include: number[][];
  exclude: number[][];
}

/**
 * The class id of `key` (a class id, as a number or a string of digits, or a label of `classNames`).
 * @throws ConfigError at `path` for an unknown label, or an id the model does not have (`classNames` is the model's
 *   list of labels, one per class; empty: ids are not checked and labels cannot be resolved).
 */
export function classIdOf(key: string | number, classNames: readonly string[], path: string): number {
  const known = classNames.length > 0;
  if (typeof key === 'number' || /^[0-9]+$/.test(key)) {
    const id = Number(key);
    if (known && id >= classNames.length) {
      throw new ConfigError(path, `Unknown class id ${id}: the model has ${classNames.length} classes (0 to ${classNames.length - 1})`);
    }
    return id;
  }
  const id = classNames.indexOf(key);
  if (id < 0) {
    const some = classNames.slice(0, 8).map((n) => JSON.stringify(n)).join(', ');
    throw new ConfigError(
      path,
      `Unknown class label ${JSON.stringify(key)}` + (known ? `; the model's labels are ${some}${classNames.length > 8 ? ', …' : ''}` : ''),
      known ? "use one of the model's labels (pipeline.model.classNames) or a class id" : 'use a class id: the labels of the model are not known here',
    );
  }
  return id;
}

/** `'2.5%'` → { px: 0, fraction: 0.025 }; 1200 → { px: 1200, fraction: 0 } (for an upper bound: the other one +Infinity). */
function areaOf(v: number | string | undefined, upper: boolean): { px: number; fraction: number } {
  const none = upper ? Infinity : 0;
  if (v === undefined) return { px: none, fraction: none };
  if (typeof v === 'number') return { px: v, fraction: none };
  return { px: none, fraction: Number(v.slice(0, -1)) / 100 };
}

/**
 * The native form of a stream's normalised detection options; `path` names them in errors
 * (`stream.detection` → `stream.detection.classes[1]`).
 */
export function toNativeDetection(d: NormalisedStreamDetection, classNames: readonly string[], path: string): NativeDetectionConfig {
  const classThresholds: number[] = [];
  const keyOf = new Map<number, string>();
  for (const [key, threshold] of Object.entries(d.classThresholds)) {
    const at = `${path}.classThresholds.${key}`;
    const id = classIdOf(key, classNames, at);
    const other = keyOf.get(id);
    if (other !== undefined) throw new ConfigError(at, `Class ${id} has a threshold already (as ${JSON.stringify(other)})`);
    keyOf.set(id, key);
    classThresholds.push(id, threshold);
  }
  const classes = (d.classes ?? []).map((c, i) => classIdOf(c, classNames, `${path}.classes[${i}]`));
  const min = areaOf(d.minArea, false);
  const max = areaOf(d.maxArea, true);
  const flat = (polygons: [number, number][][]) => polygons.map((p) => p.flat());
  return {
    scoreThreshold: d.scoreThreshold,
    classThresholds,
    classes,
    minAreaPx: min.px,
    minAreaFraction: min.fraction,
    maxAreaPx: max.px,
    maxAreaFraction: max.fraction,
    include: flat(d.include),
    exclude: flat(d.exclude),
  };
}
