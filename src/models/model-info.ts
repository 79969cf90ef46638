/**
 * Model introspection: what an ONNX detector file expects and produces, read straight from the file
 * (names, shapes, element types, metadata, class names, input size, fixed or dynamic batch), without
 * creating an inference session. Used to choose the output-layout parser and the batch policy
 * ("the model file decides, not a guess").
 *
 * Reading is one `fs.readFile` plus a protobuf walk that skips nodes and initializer payloads
 * (see ./onnx-proto.ts), so it costs a file read, not a model load.
 */

import { readFile } from 'node:fs/promises';
import { CamtrackError } from '../errors.js';
import { dataTypeName, decodeModel, type OnnxDim, type OnnxModel } from './onnx-proto.js';

/** Error code of every error thrown by this module. */
export const ERR_CAMTRACK_MODEL = 'ERR_CAMTRACK_MODEL';

function modelError(message: string, cause?: unknown): CamtrackError {
  return new CamtrackError(message, ERR_CAMTRACK_MODEL, {
    stage: 'model',
    hint: 'give the path of an ONNX detector file (e.g. exported by Ultralytics or YOLOX)',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Everything camtrack needs to know about a detector file before loading it. Plain data, immutable by use. */
export interface ModelInfo {
  /** The path that was read (as given). */
  path: string;
  /** Name of the first graph input that is not an initializer (e.g. `images`). */
  inputName: string;
  /** Its dimensions: numbers for fixed sizes, strings for symbolic ones (`'batch'`; `'?'` when unnamed). */
  inputShape: (number | string)[];
  /** Its element type as onnxruntime-node spells it (`'float32'`, `'float16'`, `'uint8'`, ...). */
  inputType: string;
  /** Name of the first output (e.g. `output0`). */
  outputName: string;
  /** Shape of the first output, same convention as {@link ModelInfo.inputShape}. */
  outputShape: (number | string)[];
  /** All output names in graph order. */
  outputNames: string[];
  /** All output shapes in graph order. */
  outputShapes: (number | string)[][];
  /** Element types of all outputs. */
  outputTypes: string[];
  /** ModelProto.metadata_props as a record (later duplicates win). */
  metadata: Record<string, string>;
  /** Class names from metadata `names` (Ultralytics writes a Python dict literal); absent when not given. */
  classNames?: string[];
  /** Input size [height, width]: from metadata `imgsz` when present, else from a fixed NCHW input shape. */
  imgsz?: [number, number];
  /** Batch size when the input's first dimension is fixed; null when it is dynamic (symbolic or unknown). */
  fixedBatch: number | null;
  /** ModelProto.ir_version. */
  irVersion: number;
  /** Version of the default ('' or 'ai.onnx') opset. */
  opsetVersion: number | null;
  /** ModelProto.producer_name (e.g. `pytorch`, `onnx.quantize`). */
  producerName: string;
}

/** The 80 COCO class names in the standard detector order (index 0 = person ... 79 = toothbrush). */
export const COCO_CLASSES: readonly string[] = Object.freeze([
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
  'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
  'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
  'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard',
  'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush',
]);

// ---------------------------------------------------------------------------------------------------------
// Python-literal parsing for Ultralytics metadata
// ---------------------------------------------------------------------------------------------------------

type PyValue = string | number | PyValue[] | Map<string | number, PyValue>;

/**
 * Parses the small subset of Python literals Ultralytics writes into ONNX metadata: dicts, lists, tuples,
 * ints, floats, single- or double-quoted strings with backslash escapes, True/False/None. JSON is a subset
 * of this. Returns undefined when the text is not such a literal (never throws).
 */
export function parsePyLiteral(text: string): PyValue | undefined {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (): never => {
    throw new SyntaxError(`bad literal at ${i}`);
  };
  const str = (): string => {
    const q = text[i++]!;
    let out = '';
    while (i < text.length && text[i] !== q) {
      let c = text[i++]!;
      if (c === '\\') {
        const e = text[i++] ?? fail();
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
        if (e === 'x' || e === 'u') {
          const len = e === 'x' ? 2 : 4;
          const hex = text.slice(i, i + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail();
          c = String.fromCharCode(parseInt(hex, 16));
          i += len;
        } else {
          c = simple[e] ?? `\\${e}`;
        }
      }
      out += c;
    }
    if (text[i] !== q) fail();
    i++;
    return out;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === undefined) return fail();
    if (c === "'" || c === '"') return str();
    if (c === '{') {
      i++;
      const m = new Map<string | number, PyValue>();
      ws();
      while (text[i] !== '}') {
        const k = value();
        if (typeof k !== 'string' && typeof k !== 'number') fail();
        ws();
        if (text[i++] !== ':') fail();
        m.set(k as string | number, value());
        ws();
        if (text[i] === ',') {
          i++;
          ws();
        } else if (text[i] !== '}') fail();
      }
      i++;
      return m;
    }
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const a: PyValue[] = [];
      ws();
      while (text[i] !== close) {
        a.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          ws();
        } else if (text[i] !== close) fail();
      }
      i++;
      return a;
    }
    const m = /^(?:[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|True|False|None|true|false|null)/.exec(text.slice(i));
    if (!m) return fail();
    i += m[0].length;
    const w = m[0];
    if (w === 'True' || w === 'true') return 1;
    if (w === 'False' || w === 'false' || w === 'None' || w === 'null') return 0;
    return Number(w);
  };
  try {
    const v = value();
    ws();
    return i === text.length ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Class names from an Ultralytics-style `names` value: `"{0: 'person', 1: 'bicycle'}"`, a JSON object with
 * numeric keys, or a list. Keys must be the integers 0..n-1 (any order); otherwise undefined.
 */
export function parseClassNames(text: string): string[] | undefined {
  const v = parsePyLiteral(text.trim());
  if (Array.isArray(v)) return v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  if (!(v instanceof Map) || v.size === 0) return undefined;
  const out = new Array<string>(v.size);
  for (const [k, name] of v) {
    const idx = typeof k === 'number' ? k : /^\d+$/.test(k) ? Number(k) : NaN;
    if (!Number.isInteger(idx) || idx < 0 || idx >= v.size || typeof name !== 'string') return undefined;
    out[idx] = name;
  }
  // Duplicate keys like {0:..., '0':...} would leave holes.
  for (let k = 0; k < out.length; k++) if (out[k] === undefined) return undefined;
  return out;
}

function parseImgsz(text: string | undefined): [number, number] | undefined {
  if (text === undefined) return undefined;
  const v = parsePyLiteral(text.trim());
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x > 0)) {
    return [v[0] as number, v[1] as number];
  }
  return undefined;
}

function dims(shape: OnnxDim[] | null): (number | string)[] {
  return (shape ?? []).map((d) => (d === null ? '?' : d));
}

/**
 * Builds a {@link ModelInfo} from an already decoded model (decode with `{ nodes: false, tensorData: false }`
 * for speed). `path` is only used in messages and copied into the result.
 *
 * @throws CamtrackError code ERR_CAMTRACK_MODEL when the graph has no (non-initializer) input or no output.
 */
export function modelInfoFromProto(model: OnnxModel, path: string): ModelInfo {
  const initNames = new Set(model.graph.initializer.map((t) => t.name));
  // Models exported with IR < 4 list initializers among the inputs as well; those are not real inputs.
  const inputs = model.graph.input.filter((v) => !initNames.has(v.name));
  const input = inputs[0];
  if (input === undefined) throw modelError(`ONNX model ${path} has no inputs (its graph declares no input tensor)`);
  const outputs = model.graph.output;
  if (outputs.length === 0) throw modelError(`ONNX model ${path} has no outputs (its graph declares no output tensor)`);

  const metadata: Record<string, string> = {};
  for (const { key, value } of model.metadataProps) metadata[key] = value;

  const inputShape = dims(input.shape);
  const b = inputShape[0];
  const fixedBatch = typeof b === 'number' && b > 0 ? b : null;
  let imgsz = parseImgsz(metadata['imgsz']);
  if (imgsz === undefined && inputShape.length === 4) {
    const h = inputShape[2];
    const w = inputShape[3];
    if (typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0) imgsz = [h, w];
  }
  const classNames = metadata['names'] !== undefined ? parseClassNames(metadata['names']) : undefined;
  const opset = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');

  const info: ModelInfo = {
    path,
    inputName: input.name,
    inputShape,
    inputType: dataTypeName(input.elemType),
    outputName: outputs[0]!.name,
    outputShape: dims(outputs[0]!.shape),
    outputNames: outputs.map((o) => o.name),
    outputShapes: outputs.map((o) => dims(o.shape)),
    outputTypes: outputs.map((o) => dataTypeName(o.elemType)),
    metadata,
    fixedBatch,
    irVersion: model.irVersion,
    opsetVersion: opset?.version ?? null,
    producerName: model.producerName,
  };
  if (classNames !== undefined) info.classNames = classNames;
  if (imgsz !== undefined) info.imgsz = imgsz;
  return info;
}

/**
 * Reads and introspects an ONNX model file. Does not create an inference session.
 *
 * @param path path to a `.onnx` file (ModelProto; external-data tensors are fine, they are not read).
 * @throws CamtrackError with code `ERR_CAMTRACK_MODEL` when the file is missing or unreadable, is not an ONNX
 *   model (not a protobuf ModelProto, truncated, or without a graph), or declares no inputs/outputs.
 */
export async function readModelInfo(path: string): Promise<ModelInfo> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw modelError(`Model file not found: ${path}`, e);
    if (code === 'EISDIR') throw modelError(`Model path is a directory, not an ONNX file: ${path}`, e);
    throw modelError(`Cannot read model file ${path}: ${(e as Error).message}`, e);
  }
  let model: OnnxModel;
  try {
    model = decodeModel(bytes, { nodes: false, tensorData: false });
  } catch (e) {
    throw modelError(
      `${path} is not an ONNX model file (${bytes.length} bytes; ${(e as Error).message}). ` +
        'Is it truncated, or a different format (TensorRT engine, PyTorch .pt)?',
      e,
    );
  }
  if (model.irVersion <= 0) {
    throw modelError(`${path} is not an ONNX model file (no ir_version in ModelProto; ${bytes.length} bytes)`);
  }
  return modelInfoFromProto(model, path);
}
