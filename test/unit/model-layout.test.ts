/**
 * Output-layout detection (src/models/resolve.ts, detectLayout): the one place camtrack tells a detector's output
 * layout from its output shape; the native parser receives the layout by name. Pure TypeScript: no addon.
 * Shapes of the shared models are the real ones (SOURCES.md; read from the files by test/addon/images.test.ts).
 * Also what resolveModel refuses to load: an output element type other than float32 (tiny models built here).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

import { CamtrackError } from '../../src/errors.js';
import { encodeModel, floatTensor, int64Tensor, modelHeader, node, TensorDataType } from '../../src/models/onnx-proto.js';
import { detectLayout, resolveModel } from '../../src/models/resolve.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

describe('detectLayout', () => {
  it('tells the layout of the four shared models from their output shapes', () => {
    expect(detectLayout([1, 3549, 85], 416, 416)).toBe('yolox'); // yolox_nano.onnx: 3549 = 52² + 26² + 13² anchors
    expect(detectLayout([1, 84, 8400], 640, 640)).toBe('ultralytics'); // yolov8n_int8.onnx
    expect(detectLayout([1, 84, 2100], 320, 320)).toBe('ultralytics'); // yolo11n_int8_320.onnx
    expect(detectLayout([1, 300, 6], 640, 640)).toBe('e2e'); // yolo26n_int8_e2e.onnx
  });

  it('reads a single-class YOLOX head [B, anchors, 5+1] as yolox, not e2e (regression: width 6 was taken for e2e)', () => {
    // ByteTrack's person detectors: 8400 = 80² + 40² + 20² anchors at 640x640; 23625 = 180·100 + 90·50 + 45·25 at 1440x800.
    expect(detectLayout([1, 8400, 6], 640, 640)).toBe('yolox');
    expect(detectLayout([1, 23625, 6], 1440, 800)).toBe('yolox');
    expect(detectLayout(['batch', 3549, 6], 416, 416)).toBe('yolox');
    // An e2e head's N is its maximum detection count, not an anchor count: still e2e.
    expect(detectLayout([1, 300, 6], 640, 640)).toBe('e2e');
    expect(detectLayout([1, 100, 6], 1440, 800)).toBe('e2e');
    expect(detectLayout([1, 8400, 6], 320, 320)).toBe('e2e'); // 8400 is not the anchor count of 320x320 (2100)
  });

  it('accepts a dynamic batch dimension (a name or -1) and needs only the last two dimensions to be fixed', () => {
    expect(detectLayout(['batch', 84, 8400], 640, 640)).toBe('ultralytics');
    expect(detectLayout([-1, 3549, 85], 416, 416)).toBe('yolox');
    expect(detectLayout([1, 'anchors', 85], 416, 416)).toBeUndefined();
  });

  it('falls back to the shape alone when the anchor count does not match strides 8/16/32 (e.g. another head)', () => {
    // 640 model with a P2 head: 8400 + 160² anchors; more anchors than channels → ultralytics [B, 4+nc, N].
    expect(detectLayout([1, 84, 34000], 640, 640)).toBe('ultralytics');
    // YOLOX-style [B, N, 5+nc] with an unexpected N.
    expect(detectLayout([1, 5000, 85], 640, 640)).toBe('yolox');
  });

  it('returns undefined (the caller asks for model.layout) when the shape cannot be told', () => {
    expect(detectLayout([84, 8400], 640, 640)).toBeUndefined(); // rank 2
    expect(detectLayout([1, 1, 84, 8400], 640, 640)).toBeUndefined(); // rank 4
    expect(detectLayout([1, 4, 4], 640, 640)).toBeUndefined(); // no class columns either way
    expect(detectLayout([1, 6, 6], 640, 640)).toBeUndefined(); // square: e2e needs N ≠ 6
  });
});

const SHARED_MODELS = {
  'models/yolox_nano.onnx': { layout: 'yolox', numClasses: 80, numAnchors: 3549 },
  'models/yolov8n_int8.onnx': { layout: 'ultralytics', numClasses: 80, numAnchors: 8400 },
  'models/yolo11n_int8_320.onnx': { layout: 'ultralytics', numClasses: 80, numAnchors: 2100 },
  'models/yolo26n_int8_e2e.onnx': { layout: 'e2e', numClasses: 80, numAnchors: 300 },
} as const;

describeWithAssets('resolveModel() on the shared models', Object.keys(SHARED_MODELS), () => {
  for (const [file, want] of Object.entries(SHARED_MODELS)) {
    it(`${file}: ${want.layout}, ${want.numClasses} classes, ${want.numAnchors} rows`, async () => {
      expect(await resolveModel({ path: assetPath(file) })).toMatchObject(want);
    });
  }
});

/**
 * A runnable detector-shaped model: images [1,3,32,32] → 1×1 Conv to 6 channels → [1,6,1024] (ultralytics layout,
 * 2 classes), then, for `float16`, a Cast: the output a half-precision export declares.
 */
function tinyDetector(outputType: 'float32' | 'float16'): Uint8Array {
  const half = outputType === 'float16';
  return encodeModel({
    ...modelHeader('camtrack-test'),
    graph: {
      name: 'tiny',
      node: [
        node('Conv', ['images', 'w'], ['features'], [{ name: 'kernel_shape', ints: [1, 1] }]),
        node('Reshape', ['features', 'shape'], [half ? 'output32' : 'output0']),
        ...(half ? [node('Cast', ['output32'], ['output0'], [{ name: 'to', i: TensorDataType.FLOAT16 }])] : []),
      ],
      initializer: [floatTensor('w', [6, 3, 1, 1], Array.from({ length: 18 }, (_, i) => i / 18)), int64Tensor('shape', [3], [1, 6, -1])],
      input: [{ name: 'images', elemType: TensorDataType.FLOAT, shape: [1, 3, 32, 32] }],
      output: [{ name: 'output0', elemType: half ? TensorDataType.FLOAT16 : TensorDataType.FLOAT, shape: [1, 6, 1024] }],
    },
    metadataProps: [],
  });
}

describe('resolveModel() output type', () => {
  const tmp = lazyTempDir('camtrack-model-type-');
  const write = (name: string, bytes: Uint8Array): string => {
    const file = path.join(tmp(), name);
    writeFileSync(file, bytes);
    return file;
  };

  it('EXPECTED FAILURE - a float16 output is ERR_CAMTRACK_MODEL at load, naming the output and its type', async () => {
    const file = write('fp16-out.onnx', tinyDetector('float16'));
    // The fixture is what a half-precision export gives: onnxruntime runs it and returns float16, not floats.
    const session = await ort.InferenceSession.create(file);
    const out = await session.run({ images: new ort.Tensor('float32', new Float32Array(3 * 32 * 32), [1, 3, 32, 32]) });
    expect(out['output0']!.type).toBe('float16');
    await session.release();

    const err = await resolveModel({ path: file }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CamtrackError);
    expect((err as CamtrackError).code).toBe('ERR_CAMTRACK_MODEL');
    expect((err as CamtrackError).message).toBe(`${file}: output output0 type float16 is not supported (float32 only in this version)`);
    expect((err as CamtrackError).hint).toMatch(/float32 output/);
  });

  it('loads the same model with a float32 output', async () => {
    const m = await resolveModel({ path: write('fp32-out.onnx', tinyDetector('float32')) });
    expect(m).toMatchObject({ layout: 'ultralytics', numClasses: 2, numAnchors: 1024, outputElemsPerImage: 6 * 1024 });
  });
});
