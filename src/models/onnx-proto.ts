/**
 * A minimal protobuf reader and writer for the subset of ONNX (onnx/onnx.proto, proto2) that camtrack needs:
 * model introspection (input/output names, shapes, element types, metadata) and writing small hand-built
 * models (the built-in demo detector, see src/demo/scene-model.ts).
 *
 * Field numbers (checked against onnx/onnx.proto):
 * - ModelProto: ir_version 1, producer_name 2, producer_version 3, domain 4, model_version 5, doc_string 6,
 *   graph 7, opset_import 8, metadata_props 14.
 * - OperatorSetIdProto: domain 1, version 2. StringStringEntryProto: key 1, value 2.
 * - GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11, output 12, value_info 13.
 * - NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, doc_string 6, domain 7.
 * - AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, strings 9, type 20.
 * - TensorProto: dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8, raw_data 9,
 *   data_location 14 (1 = EXTERNAL).
 * - ValueInfoProto: name 1, type 2. TypeProto: tensor_type 1. TypeProto.Tensor: elem_type 1, shape 2.
 *   TensorShapeProto: dim 1. Dimension: dim_value 1, dim_param 2.
 *
 * Everything else is skipped by wire type, so files from newer ONNX versions still read. Large payloads are
 * never copied: `raw_data` is returned as a view into the input buffer, and with `{ tensorData: false }` the
 * data fields of initializers are skipped entirely (only their names, dims and types are decoded). Node lists
 * can be skipped as well (`{ nodes: false }`), which is what introspection does.
 *
 * Pure functions over byte arrays; no I/O, no shared state; safe to call from any thread/worker.
 * Malformed input throws {@link OnnxProtoError} (never returns a partial model silently).
 */

/** ONNX TensorProto.DataType values used by camtrack. */
export const TensorDataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

const DATA_TYPE_NAMES: Record<number, string> = {
  0: 'undefined',
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

/** Name of an ONNX element type as onnxruntime-node spells it (`1` → `'float32'`); unknown → `'type<N>'`. */
export function dataTypeName(dataType: number): string {
  return DATA_TYPE_NAMES[dataType] ?? `type${dataType}`;
}

/** ONNX AttributeProto.AttributeType values. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

/** Thrown for bytes that are not a well-formed protobuf message of the expected shape. */
export class OnnxProtoError extends Error {
  /** Byte offset in the input where the problem was found. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = 'OnnxProtoError';
    this.offset = offset;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Model types (decoded and to-be-encoded share these shapes)
// ---------------------------------------------------------------------------------------------------------

/** OperatorSetIdProto. `domain` '' is the default ONNX domain. */
export interface OnnxOpset {
  domain: string;
  version: number;
}

/** TensorProto. Only one of the data fields is set. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  /** A {@link TensorDataType} value. */
  dataType: number;
  /** Little-endian element bytes. When decoded this is a VIEW into the input buffer (not a copy). */
  rawData?: Uint8Array;
  floatData?: ArrayLike<number>;
  int32Data?: ArrayLike<number>;
  int64Data?: ArrayLike<number>;
  /** True when the data lives in an external file (data_location = EXTERNAL). Decoded only. */
  external?: boolean;
  /** Decoded only, with `{ tensorData: false }`: bytes of data fields that were skipped. */
  skippedDataBytes?: number;
}

/** AttributeProto (the scalar and list kinds camtrack uses). */
export interface OnnxAttribute {
  name: string;
  /** An {@link AttributeType} value. When encoding it is inferred from the field that is set if omitted. */
  type?: number;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
  strings?: string[];
}

/** NodeProto. */
export interface OnnxNode {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain: string;
  attribute: OnnxAttribute[];
}

/** One dimension of a tensor shape: a fixed size, a symbolic name, or null when neither is given. */
export type OnnxDim = number | string | null;

/** ValueInfoProto restricted to tensor types. */
export interface OnnxValueInfo {
  name: string;
  /** Element type ({@link TensorDataType}); 0 when the value is not a tensor or the type is absent. */
  elemType: number;
  /** Dimensions; null when the shape is absent (unknown rank). */
  shape: OnnxDim[] | null;
}

/** GraphProto. */
export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
}

/** ModelProto. `metadataProps` keeps file order; keys should be distinct. */
export interface OnnxModel {
  irVersion: number;
  opsetImport: OnnxOpset[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  graph: OnnxGraph;
  metadataProps: { key: string; value: string }[];
}

/** What {@link decodeModel} decodes; skipping is cheap (no copies, no per-element work). */
export interface DecodeOptions {
  /** Decode graph nodes. Default true. */
  nodes?: boolean;
  /** Decode initializer data fields (raw_data stays a view). Default true; false keeps name/dims/type only. */
  tensorData?: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextDecoder('utf-8');

/** Sequential reader over one protobuf message in `buf[pos, end)`. Not thread-safe (it has a cursor). */
export class ProtoReader {
  pos: number;
  readonly end: number;
  readonly buf: Uint8Array;
  private readonly view: DataView;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** True when the whole message has been read. */
  eof(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a field tag; returns [fieldNumber, wireType]. */
  tag(): [number, number] {
    const at = this.pos;
    const t = this.varint();
    const field = Math.floor(t / 8);
    const wire = t % 8;
    if (field <= 0 || field > 536870911) throw new OnnxProtoError(`invalid field number ${field}`, at);
    if (wire !== WIRE_VARINT && wire !== WIRE_FIXED64 && wire !== WIRE_LEN && wire !== WIRE_FIXED32) {
      throw new OnnxProtoError(`unsupported wire type ${wire} for field ${field}`, at);
    }
    return [field, wire];
  }

  /**
   * Reads a varint as a signed 64-bit integer converted to a JS number (int64 fields: negative values are
   * 10-byte two's complement). Values beyond 2^53 lose precision, which no ONNX field camtrack reads needs.
   */
  varint(): number {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (this.pos >= this.end) throw new OnnxProtoError('truncated varint', start);
      const b = this.buf[this.pos++]!;
      if (i < 7) {
        result += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) return result;
      } else {
        // Long varint (> 49 bits): redo exactly with BigInt and interpret as int64.
        if ((b & 0x80) === 0 || i >= 9) return this.bigVarint(start);
      }
      if (i >= 9) throw new OnnxProtoError('varint longer than 10 bytes', start);
    }
  }

  private bigVarint(start: number): number {
    let r = 0n;
    let shift = 0n;
    let p = start;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[p++]!;
      r |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) break;
      if (i === 9) throw new OnnxProtoError('varint longer than 10 bytes', start);
    }
    this.pos = p;
    return Number(BigInt.asIntN(64, r));
  }

  /** Reads a length prefix and checks it fits in the message. */
  length(): number {
    const at = this.pos;
    const n = this.varint();
    if (n < 0 || n > this.end - this.pos) {
      throw new OnnxProtoError(`length ${n} runs past the end of the message (${this.end - this.pos} bytes left)`, at);
    }
    return n;
  }

  /** Length-delimited bytes as a view into the input (no copy). */
  bytes(): Uint8Array {
    const n = this.length();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  float32(): number {
    if (this.end - this.pos < 4) throw new OnnxProtoError('truncated fixed32', this.pos);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A reader over a nested, length-delimited message. */
  sub(): ProtoReader {
    const n = this.length();
    const r = new ProtoReader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** Skips a field's value by wire type; returns the number of payload bytes skipped. */
  skip(wire: number): number {
    const at = this.pos;
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        break;
      case WIRE_FIXED64:
        if (this.end - this.pos < 8) throw new OnnxProtoError('truncated fixed64', at);
        this.pos += 8;
        break;
      case WIRE_FIXED32:
        if (this.end - this.pos < 4) throw new OnnxProtoError('truncated fixed32', at);
        this.pos += 4;
        break;
      case WIRE_LEN: {
        const n = this.length();
        this.pos += n;
        break;
      }
      default:
        throw new OnnxProtoError(`cannot skip wire type ${wire}`, at);
    }
    return this.pos - at;
  }

  /** Repeated int64/int32 field: packed (wire 2) or one element (wire 0). Appends to `out`. */
  ints(wire: number, out: number[]): void {
    if (wire === WIRE_VARINT) {
      out.push(this.varint());
    } else if (wire === WIRE_LEN) {
      const r = this.sub();
      while (!r.eof()) out.push(r.varint());
    } else {
      throw new OnnxProtoError(`expected varint or packed ints, got wire type ${wire}`, this.pos);
    }
  }

  /** Repeated float field: packed (wire 2) or one element (wire 5). Appends to `out`. */
  floats(wire: number, out: number[]): void {
    if (wire === WIRE_FIXED32) {
      out.push(this.float32());
    } else if (wire === WIRE_LEN) {
      const r = this.sub();
      if ((r.end - r.pos) % 4 !== 0) throw new OnnxProtoError('packed floats length not a multiple of 4', r.pos);
      while (!r.eof()) out.push(r.float32());
    } else {
      throw new OnnxProtoError(`expected fixed32 or packed floats, got wire type ${wire}`, this.pos);
    }
  }

  /** Throws unless the field has the given wire type. */
  expect(field: number, wire: number, want: number): void {
    if (wire !== want) throw new OnnxProtoError(`field ${field} has wire type ${wire}, expected ${want}`, this.pos);
  }
}

function decodeOpset(r: ProtoReader): OnnxOpset {
  const out: OnnxOpset = { domain: '', version: 0 };
  while (!r.eof()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) out.domain = r.string();
    else if (f === 2 && w === WIRE_VARINT) out.version = r.varint();
    else r.skip(w);
  }
  return out;
}

function decodeEntry(r: ProtoReader): { key: string; value: string } {
  const out = { key: '', value: '' };
  while (!r.eof()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) out.key = r.string();
    else if (f === 2 && w === WIRE_LEN) out.value = r.string();
    else r.skip(w);
  }
  return out;
}

/** Decodes a TensorProto. With `data` false, data fields are skipped and only counted. */
export function decodeTensor(r: ProtoReader, data = true): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0 };
  let skipped = 0;
  while (!r.eof()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1:
        r.ints(w, t.dims);
        break;
      case 2:
        r.expect(f, w, WIRE_VARINT);
        t.dataType = r.varint();
        break;
      case 8:
        r.expect(f, w, WIRE_LEN);
        t.name = r.string();
        break;
      case 14:
        r.expect(f, w, WIRE_VARINT);
        t.external = r.varint() === 1;
        break;
      case 4:
      case 5:
      case 7:
      case 9:
        if (!data) {
          skipped += r.skip(w);
        } else if (f === 9) {
          r.expect(f, w, WIRE_LEN);
          t.rawData = r.bytes();
        } else if (f === 4) {
          const v: number[] = [];
          r.floats(w, v);
          t.floatData = [...((t.floatData as number[] | undefined) ?? []), ...v];
        } else {
          const v: number[] = [];
          r.ints(w, v);
          if (f === 5) t.int32Data = [...((t.int32Data as number[] | undefined) ?? []), ...v];
          else t.int64Data = [...((t.int64Data as number[] | undefined) ?? []), ...v];
        }
        break;
      default:
        r.skip(w);
    }
  }
  if (!data) t.skippedDataBytes = skipped;
  return t;
}

function decodeAttribute(r: ProtoReader, data: boolean): OnnxAttribute {
  const a: OnnxAttribute = { name: '' };
  while (!r.eof()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1:
        r.expect(f, w, WIRE_LEN);
        a.name = r.string();
        break;
      case 20:
        r.expect(f, w, WIRE_VARINT);
        a.type = r.varint();
        break;
      case 2:
        r.expect(f, w, WIRE_FIXED32);
        a.f = r.float32();
        break;
      case 3:
        r.expect(f, w, WIRE_VARINT);
        a.i = r.varint();
        break;
      case 4:
        r.expect(f, w, WIRE_LEN);
        a.s = r.string();
        break;
      case 5:
        r.expect(f, w, WIRE_LEN);
        a.t = decodeTensor(r.sub(), data);
        break;
      case 7:
        r.floats(w, (a.floats ??= []));
        break;
      case 8:
        r.ints(w, (a.ints ??= []));
        break;
      case 9:
        r.expect(f, w, WIRE_LEN);
        (a.strings ??= []).push(r.string());
        break;
      default:
        r.skip(w); // graphs, sparse tensors, doc strings, ...
    }
  }
  return a;
}

function decodeNode(r: ProtoReader, data: boolean): OnnxNode {
  const n: OnnxNode = { input: [], output: [], name: '', opType: '', domain: '', attribute: [] };
  while (!r.eof()) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    if (f === 1) n.input.push(r.string());
    else if (f === 2) n.output.push(r.string());
    else if (f === 3) n.name = r.string();
    else if (f === 4) n.opType = r.string();
    else if (f === 7) n.domain = r.string();
    else if (f === 5) n.attribute.push(decodeAttribute(r.sub(), data));
    else r.skip(w);
  }
  return n;
}

function decodeShape(r: ProtoReader): OnnxDim[] {
  const dims: OnnxDim[] = [];
  while (!r.eof()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) {
      const d = r.sub();
      let dim: OnnxDim = null;
      while (!d.eof()) {
        const [df, dw] = d.tag();
        if (df === 1 && dw === WIRE_VARINT) dim = d.varint();
        else if (df === 2 && dw === WIRE_LEN) dim = d.string();
        else d.skip(dw);
      }
      dims.push(dim);
    } else {
      r.skip(w);
    }
  }
  return dims;
}

function decodeValueInfo(r: ProtoReader): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', elemType: 0, shape: null };
  while (!r.eof()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) {
      v.name = r.string();
    } else if (f === 2 && w === WIRE_LEN) {
      const type = r.sub();
      while (!type.eof()) {
        const [tf, tw] = type.tag();
        if (tf === 1 && tw === WIRE_LEN) {
          const tensor = type.sub();
          while (!tensor.eof()) {
            const [ef, ew] = tensor.tag();
            if (ef === 1 && ew === WIRE_VARINT) v.elemType = tensor.varint();
            else if (ef === 2 && ew === WIRE_LEN) v.shape = decodeShape(tensor.sub());
            else tensor.skip(ew);
          }
        } else {
          type.skip(tw); // sequence/map/optional types: not tensors, left as elemType 0
        }
      }
    } else {
      r.skip(w);
    }
  }
  return v;
}

function decodeGraph(r: ProtoReader, opts: Required<DecodeOptions>): OnnxGraph {
  const g: OnnxGraph = { name: '', node: [], initializer: [], input: [], output: [] };
  while (!r.eof()) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    if (f === 1) {
      if (opts.nodes) g.node.push(decodeNode(r.sub(), opts.tensorData));
      else r.skip(w);
    } else if (f === 2) g.name = r.string();
    else if (f === 5) g.initializer.push(decodeTensor(r.sub(), opts.tensorData));
    else if (f === 11) g.input.push(decodeValueInfo(r.sub()));
    else if (f === 12) g.output.push(decodeValueInfo(r.sub()));
    else r.skip(w);
  }
  return g;
}

/**
 * Decodes a serialized ModelProto. Unknown fields are skipped; tensor payloads are views into `buf`
 * (keep `buf` alive and unmodified while you use them).
 *
 * @throws OnnxProtoError when the bytes are not a well-formed protobuf message or no graph is present.
 */
export function decodeModel(buf: Uint8Array, options: DecodeOptions = {}): OnnxModel {
  const opts: Required<DecodeOptions> = { nodes: options.nodes ?? true, tensorData: options.tensorData ?? true };
  const r = new ProtoReader(buf);
  const m: OnnxModel = {
    irVersion: 0,
    opsetImport: [],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    graph: { name: '', node: [], initializer: [], input: [], output: [] },
    metadataProps: [],
  };
  let sawGraph = false;
  while (!r.eof()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1:
        r.expect(f, w, WIRE_VARINT);
        m.irVersion = r.varint();
        break;
      case 2:
        r.expect(f, w, WIRE_LEN);
        m.producerName = r.string();
        break;
      case 3:
        r.expect(f, w, WIRE_LEN);
        m.producerVersion = r.string();
        break;
      case 4:
        r.expect(f, w, WIRE_LEN);
        m.domain = r.string();
        break;
      case 5:
        r.expect(f, w, WIRE_VARINT);
        m.modelVersion = r.varint();
        break;
      case 6:
        r.expect(f, w, WIRE_LEN);
        m.docString = r.string();
        break;
      case 7:
        r.expect(f, w, WIRE_LEN);
        m.graph = decodeGraph(r.sub(), opts);
        sawGraph = true;
        break;
      case 8:
        r.expect(f, w, WIRE_LEN);
        m.opsetImport.push(decodeOpset(r.sub()));
        break;
      case 14:
        r.expect(f, w, WIRE_LEN);
        m.metadataProps.push(decodeEntry(r.sub()));
        break;
      default:
        r.skip(w);
    }
  }
  if (!sawGraph) throw new OnnxProtoError('no graph (ModelProto field 7) in the message', buf.length);
  return m;
}

// ---------------------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------------------

const utf8enc = new TextEncoder();

/** Growable protobuf writer. Nested messages are written via {@link ProtoWriter.message}. Not thread-safe. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Raw varint. Negative numbers are written as 10-byte two's complement (int64 semantics). */
  varint(v: number): this {
    if (!Number.isInteger(v)) throw new RangeError(`Expected integer for varint but received ${v}`);
    if (v < 0) {
      let big = BigInt.asUintN(64, BigInt(v));
      this.reserve(10);
      for (let i = 0; i < 10; i++) {
        const b = Number(big & 0x7fn);
        big >>= 7n;
        this.buf[this.len++] = big === 0n ? b : b | 0x80;
        if (big === 0n) break;
      }
      return this;
    }
    this.reserve(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  /** Varint field (int32/int64/enum/bool). */
  int(field: number, v: number): this {
    return this.tag(field, WIRE_VARINT).varint(v);
  }

  float(field: number, v: number): this {
    this.tag(field, WIRE_FIXED32);
    this.reserve(4);
    this.view.setFloat32(this.len, v, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE_LEN).varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8enc.encode(s));
  }

  /** Packed repeated varints. */
  packedInts(field: number, values: ArrayLike<number>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.varint(values[i]!);
    return this.bytes(field, inner.finish());
  }

  /** Unpacked repeated varints (how proto2 writes fields not declared `[packed = true]`). */
  repeatedInts(field: number, values: ArrayLike<number>): this {
    for (let i = 0; i < values.length; i++) this.int(field, values[i]!);
    return this;
  }

  /** Packed repeated floats. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i]!, true);
    return this.bytes(field, b);
  }

  /** Nested message written by `fill` into a fresh writer. */
  message(field: number, fill: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    fill(inner);
    return this.bytes(field, inner.finish());
  }

  /** The bytes written so far (a view; copy it if you keep writing). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** Writes a TensorProto body. */
export function encodeTensor(w: ProtoWriter, t: OnnxTensor): void {
  w.repeatedInts(1, t.dims); // not declared packed in onnx.proto
  w.int(2, t.dataType);
  if (t.floatData !== undefined) w.packedFloats(4, t.floatData);
  if (t.int32Data !== undefined) w.packedInts(5, t.int32Data);
  if (t.int64Data !== undefined) w.packedInts(7, t.int64Data);
  if (t.name) w.string(8, t.name);
  if (t.rawData !== undefined) w.bytes(9, t.rawData);
}

function attributeType(a: OnnxAttribute): number {
  if (a.type !== undefined) return a.type;
  if (a.floats !== undefined) return AttributeType.FLOATS;
  if (a.ints !== undefined) return AttributeType.INTS;
  if (a.strings !== undefined) return AttributeType.STRINGS;
  if (a.t !== undefined) return AttributeType.TENSOR;
  if (a.s !== undefined) return AttributeType.STRING;
  if (a.i !== undefined) return AttributeType.INT;
  if (a.f !== undefined) return AttributeType.FLOAT;
  throw new TypeError(`Attribute "${a.name}" has no value`);
}

function encodeAttribute(w: ProtoWriter, a: OnnxAttribute): void {
  w.string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.s !== undefined) w.string(4, a.s);
  if (a.t !== undefined) {
    const t = a.t;
    w.message(5, (m) => encodeTensor(m, t));
  }
  if (a.floats !== undefined) w.packedFloats(7, a.floats);
  // `ints` is not declared packed in onnx.proto: write it unpacked, as onnx's own serializer does.
  if (a.ints !== undefined) w.repeatedInts(8, a.ints);
  if (a.strings !== undefined) for (const s of a.strings) w.string(9, s);
  w.int(20, attributeType(a));
}

function encodeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      if (v.shape !== null) {
        const shape = v.shape;
        tensor.message(2, (s) => {
          for (const d of shape) {
            s.message(1, (dim) => {
              if (typeof d === 'number') dim.int(1, d);
              else if (typeof d === 'string') dim.string(2, d);
            });
          }
        });
      }
    }),
  );
}

function encodeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const s of n.input) w.string(1, s);
  for (const s of n.output) w.string(2, s);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attribute) w.message(5, (m) => encodeAttribute(m, a));
  if (n.domain) w.string(7, n.domain);
}

/** Serializes a model. The result is a fresh Uint8Array owned by the caller. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, m.irVersion);
  if (m.producerName) w.string(2, m.producerName);
  if (m.producerVersion) w.string(3, m.producerVersion);
  if (m.domain) w.string(4, m.domain);
  if (m.modelVersion) w.int(5, m.modelVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, (g) => {
    for (const n of m.graph.node) g.message(1, (x) => encodeNode(x, n));
    g.string(2, m.graph.name);
    for (const t of m.graph.initializer) g.message(5, (x) => encodeTensor(x, t));
    for (const v of m.graph.input) g.message(11, (x) => encodeValueInfo(x, v));
    for (const v of m.graph.output) g.message(12, (x) => encodeValueInfo(x, v));
  });
  for (const o of m.opsetImport) {
    w.message(8, (x) => {
      if (o.domain) x.string(1, o.domain);
      x.int(2, o.version);
    });
  }
  for (const e of m.metadataProps) {
    w.message(14, (x) => x.string(1, e.key).string(2, e.value));
  }
  return w.finish().slice();
}

// ---------------------------------------------------------------------------------------------------------
// Small builders for hand-made models
// ---------------------------------------------------------------------------------------------------------

/** A float32 initializer stored as raw_data (little-endian). */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): OnnxTensor {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) {
    throw new RangeError(`Expected ${count} values for tensor ${name} [${dims.join(',')}] but received ${values.length}`);
  }
  const f32 = Float32Array.from(values);
  const raw = new Uint8Array(f32.buffer.slice(0));
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    // Big-endian host: ONNX raw_data is little-endian.
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < f32.length; i++) dv.setFloat32(i * 4, f32[i]!, true);
  }
  return { name, dims, dataType: TensorDataType.FLOAT, rawData: raw };
}

/** An int64 initializer (int64_data). */
export function int64Tensor(name: string, dims: number[], values: number[]): OnnxTensor {
  return { name, dims, dataType: TensorDataType.INT64, int64Data: values };
}

/**
 * The fields of a model that camtrack writes itself (the demo detector, provider probes, test models) other than its
 * graph and metadata: IR 8, the default domain at opset 13, version 1.
 */
export function modelHeader(producerName: string, docString = ''): Omit<OnnxModel, 'graph' | 'metadataProps'> {
  return { irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName, producerVersion: '1', domain: '', modelVersion: 1, docString };
}

/** A graph node. */
export function node(
  opType: string,
  input: string[],
  output: string[],
  attribute: OnnxAttribute[] = [],
  name = '',
): OnnxNode {
  return { opType, input, output, attribute, name: name || `${opType}_${output[0] ?? ''}`, domain: '' };
}
