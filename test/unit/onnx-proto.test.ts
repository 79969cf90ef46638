/**
 * ONNX introspection against the shared real models (expected values from shared/assets/SOURCES.md) and
 * round trips through the protobuf writer. The shared-asset cases FAIL when CI=true and the assets are
 * missing, and skip with a printed reason otherwise.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeModel,
  encodeModel,
  floatTensor,
  int64Tensor,
  node,
  ProtoReader,
  ProtoWriter,
  TensorDataType,
  type OnnxModel,
} from '../../src/models/onnx-proto.js';
import { COCO_CLASSES, parseClassNames, readModelInfo } from '../../src/models/model-info.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const assetsDir = process.env.CAMTRACK_ASSETS ?? path.resolve(repoRoot, '../shared/assets');
const modelsDir = path.join(assetsDir, 'models');
const haveAssets = existsSync(modelsDir);
if (!haveAssets) {
  if (process.env['CI'] === 'true') {
    throw new Error(`CI=true but the shared test assets are missing: ${modelsDir} (set CAMTRACK_ASSETS)`);
  }
  console.warn(`[onnx-proto.test] SKIP shared-model cases: ${modelsDir} not found (set CAMTRACK_ASSETS)`);
}

/** Ground truth from SOURCES.md. */
const MODELS = [
  {
    file: 'yolox_nano.onnx',
    input: 'images',
    inputShape: [1, 3, 416, 416],
    output: 'output',
    outputShape: [1, 3549, 85],
    ir: 6,
    opset: 11,
    producer: 'pytorch',
    names: false,
  },
  {
    file: 'yolov8n_int8.onnx',
    input: 'images',
    inputShape: [1, 3, 640, 640],
    output: 'output0',
    outputShape: [1, 84, 8400],
    ir: 9,
    opset: 20,
    producer: 'onnx.quantize',
    names: true,
    imgsz: [640, 640],
  },
  {
    file: 'yolo11n_int8_320.onnx',
    input: 'images',
    inputShape: [1, 3, 320, 320],
    output: 'output0',
    outputShape: [1, 84, 2100],
    ir: 7,
    opset: 12,
    producer: 'onnx.quantize',
    names: true,
    imgsz: [320, 320],
  },
  {
    file: 'yolo26n_int8_e2e.onnx',
    input: 'images',
    inputShape: [1, 3, 640, 640],
    output: 'output0',
    outputShape: [1, 300, 6],
    ir: 9,
    opset: 20,
    producer: 'onnx.quantize',
    names: true,
    imgsz: [640, 640],
  },
] as const;

describe.skipIf(!haveAssets)('readModelInfo() on the shared models', () => {
  for (const m of MODELS) {
    it(`reads names, shapes and metadata of ${m.file}`, async () => {
      const info = await readModelInfo(path.join(modelsDir, m.file));
      expect(info.inputName).toBe(m.input);
      expect(info.inputShape).toEqual(m.inputShape);
      expect(info.inputType).toBe('float32');
      expect(info.outputName).toBe(m.output);
      expect(info.outputNames).toEqual([m.output]);
      expect(info.outputShape).toEqual(m.outputShape);
      expect(info.outputShapes).toEqual([m.outputShape]);
      expect(info.outputTypes).toEqual(['float32']);
      expect(info.fixedBatch).toBe(1);
      expect(info.irVersion).toBe(m.ir);
      expect(info.opsetVersion).toBe(m.opset);
      expect(info.producerName).toBe(m.producer);
      if (m.names) {
        expect(info.classNames).toHaveLength(80);
        expect(info.classNames![0]).toBe('person');
        expect(info.classNames![27]).toBe('tie');
        expect(info.classNames![79]).toBe('toothbrush');
        expect(info.classNames).toEqual([...COCO_CLASSES]);
        expect(info.imgsz).toEqual(m.imgsz);
        expect(info.metadata['task']).toBe('detect');
      } else {
        expect(info.metadata['names']).toBeUndefined();
        expect(info.classNames).toBeUndefined();
        expect(info.imgsz).toEqual([416, 416]); // from the fixed input shape
      }
    });
  }

  it('reports end2end in the YOLO26 metadata and not in YOLOv8', async () => {
    const e2e = await readModelInfo(path.join(modelsDir, 'yolo26n_int8_e2e.onnx'));
    const v8 = await readModelInfo(path.join(modelsDir, 'yolov8n_int8.onnx'));
    expect(e2e.metadata['end2end']).toBe('True');
    expect(v8.metadata['end2end']).toBe('False');
  });

  it('decodes the full yolox graph, nodes and initializer views included', async () => {
    const bytes = await readFile(path.join(modelsDir, 'yolox_nano.onnx'));
    const model = decodeModel(bytes);
    expect(model.graph.node.length).toBeGreaterThan(100);
    expect(model.graph.node.some((n) => n.opType === 'Conv')).toBe(true);
    const conv = model.graph.node.find((n) => n.opType === 'Conv')!;
    expect(conv.attribute.find((a) => a.name === 'kernel_shape')?.ints?.length).toBe(2);
    // Sum of initializer payloads must be most of the 3.7 MB file (fp32 weights, ~0.9 M parameters).
    const bytesInWeights = model.graph.initializer.reduce(
      (s, t) => s + (t.rawData?.length ?? 0) + (t.floatData?.length ?? 0) * 4,
      0,
    );
    expect(bytesInWeights).toBeGreaterThan(3_000_000);
    expect(bytesInWeights).toBeLessThan(bytes.length);
    // Skipping data gives the same names and dims without payloads.
    const light = decodeModel(bytes, { nodes: false, tensorData: false });
    expect(light.graph.node).toHaveLength(0);
    expect(light.graph.initializer.map((t) => t.name)).toEqual(model.graph.initializer.map((t) => t.name));
    expect(light.graph.initializer.every((t) => t.rawData === undefined)).toBe(true);
  });
});

describe('readModelInfo() errors', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'camtrack-onnx-proto-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('EXPECTED FAILURE - missing file throws ERR_CAMTRACK_MODEL naming the path', async () => {
    const p = path.join(dir, 'nope.onnx');
    await expect(readModelInfo(p)).rejects.toMatchObject({ code: 'ERR_CAMTRACK_MODEL', message: expect.stringContaining(p) });
    await expect(readModelInfo(p)).rejects.toThrow(/not found/);
  });

  it('EXPECTED FAILURE - garbage bytes are not an ONNX file', async () => {
    const p = path.join(dir, 'garbage.onnx');
    const junk = new Uint8Array(4096);
    let s = 12345;
    for (let i = 0; i < junk.length; i++) junk[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    await writeFile(p, junk);
    await expect(readModelInfo(p)).rejects.toMatchObject({ code: 'ERR_CAMTRACK_MODEL' });
    await expect(readModelInfo(p)).rejects.toThrow(/not an ONNX model/);
    const txt = path.join(dir, 'text.onnx');
    await writeFile(txt, 'hello, this is not a model\n');
    await expect(readModelInfo(txt)).rejects.toMatchObject({ code: 'ERR_CAMTRACK_MODEL' });
  });

  it.skipIf(!haveAssets)('EXPECTED FAILURE - a truncated real model is not an ONNX file', async () => {
    const bytes = await readFile(path.join(modelsDir, 'yolo11n_int8_320.onnx'));
    for (const cut of [10, 1000, Math.floor(bytes.length / 2), bytes.length - 7]) {
      const p = path.join(dir, `cut-${cut}.onnx`);
      await writeFile(p, bytes.subarray(0, cut));
      await expect(readModelInfo(p)).rejects.toMatchObject({
        code: 'ERR_CAMTRACK_MODEL',
        message: expect.stringContaining(p),
      });
    }
  });

  it('EXPECTED FAILURE - a model without inputs is rejected', async () => {
    const model = tinyModel();
    model.graph.input = [];
    const p = path.join(dir, 'noinput.onnx');
    await writeFile(p, encodeModel(model));
    await expect(readModelInfo(p)).rejects.toMatchObject({ code: 'ERR_CAMTRACK_MODEL' });
    await expect(readModelInfo(p)).rejects.toThrow(/has no inputs/);
  });

  it('reports a dynamic batch as fixedBatch null and ignores initializers listed as inputs', async () => {
    const model = tinyModel();
    model.graph.input.unshift({ name: 'w', elemType: TensorDataType.FLOAT, shape: [2] });
    const p = path.join(dir, 'dyn.onnx');
    await writeFile(p, encodeModel(model));
    const info = await readModelInfo(p);
    expect(info.inputName).toBe('x');
    expect(info.inputShape).toEqual(['batch', 2]);
    expect(info.fixedBatch).toBeNull();
    expect(info.classNames).toEqual(["a 'quoted' name", 'b"c', 'z']);
    expect(info.metadata['imgsz']).toBe('[32, 48]');
    expect(info.imgsz).toEqual([32, 48]);
  });
});

function tinyModel(): OnnxModel {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'camtrack-test',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    graph: {
      name: 'tiny',
      node: [
        node('Mul', ['x', 'w'], ['m']),
        node('Reshape', ['m', 'shape'], ['y']),
      ],
      initializer: [floatTensor('w', [2], [2, -3]), int64Tensor('shape', [2], [-1, 2])],
      input: [{ name: 'x', elemType: TensorDataType.FLOAT, shape: ['batch', 2] }],
      output: [{ name: 'y', elemType: TensorDataType.FLOAT, shape: ['batch', 2] }],
    },
    metadataProps: [
      { key: 'names', value: `{0: "a 'quoted' name", 1: 'b"c', 2: 'z'}` },
      { key: 'imgsz', value: '[32, 48]' },
    ],
  };
}

describe('onnx-proto writer/reader', () => {
  it('round-trips a model, negative int64 values included', () => {
    const m = tinyModel();
    m.graph.node[1]!.attribute.push({ name: 'axes', ints: [-1, 0, 300] }, { name: 'alpha', f: 0.25 });
    const back = decodeModel(encodeModel(m));
    expect(back.irVersion).toBe(8);
    expect(back.opsetImport).toEqual([{ domain: '', version: 13 }]);
    expect(back.graph.input).toEqual(m.graph.input);
    expect(back.graph.output).toEqual(m.graph.output);
    expect(back.graph.node.map((n) => n.opType)).toEqual(['Mul', 'Reshape']);
    expect(back.graph.node[1]!.attribute).toEqual([
      { name: 'axes', ints: [-1, 0, 300], type: 7 },
      { name: 'alpha', f: 0.25, type: 1 },
    ]);
    expect(back.graph.initializer[1]!.int64Data).toEqual([-1, 2]);
    const w = back.graph.initializer[0]!;
    expect(w.dims).toEqual([2]);
    expect(Array.from(new Float32Array(w.rawData!.slice().buffer))).toEqual([2, -3]);
    expect(back.metadataProps).toEqual(m.metadataProps);
  });

  it('reads varints up to 64 bits and skips unknown fields of every wire type', () => {
    const w = new ProtoWriter();
    w.int(1, 9); // ir_version
    w.int(99, 2 ** 40); // unknown varint
    w.tag(98, 1);
    w.varint(0); // start of an unknown fixed64: write 8 bytes total
    for (let i = 0; i < 7; i++) w.varint(0);
    w.float(97, 1.5); // unknown fixed32
    w.string(96, 'unknown bytes');
    w.int(5, -5); // model_version, negative (10-byte varint)
    w.message(7, (g) => g.string(2, 'g'));
    const m = decodeModel(w.finish());
    expect(m.irVersion).toBe(9);
    expect(m.modelVersion).toBe(-5);
    expect(m.graph.name).toBe('g');
    const r = new ProtoReader(new ProtoWriter().varint(2 ** 52 + 3).finish());
    expect(r.varint()).toBe(2 ** 52 + 3);
  });
});

describe('parseClassNames()', () => {
  it('parses Python dict literals, JSON objects and lists', () => {
    expect(parseClassNames("{0: 'person', 1: 'bicycle'}")).toEqual(['person', 'bicycle']);
    expect(parseClassNames('{"1": "b", "0": "a"}')).toEqual(['a', 'b']);
    expect(parseClassNames("['x', 'y']")).toEqual(['x', 'y']);
    expect(parseClassNames("{0: 'it\\'s'}")).toEqual(["it's"]);
  });
  it('BAD CALL - returns undefined for gaps, non-string names or junk', () => {
    expect(parseClassNames("{0: 'a', 2: 'c'}")).toBeUndefined();
    expect(parseClassNames('{0: 5}')).toBeUndefined();
    expect(parseClassNames('person, bicycle')).toBeUndefined();
    expect(parseClassNames("{0: 'a'")).toBeUndefined();
  });
});
