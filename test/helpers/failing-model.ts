/**
 * Detector-shaped ONNX models that onnxruntime loads but fails to run: images → 1×1 Conv to 6 channels → Reshape.
 * - `'always'`: images [1,3,32,32], Reshape to [1,7,1000], which 6·32·32 = 6144 values cannot fill (onnxruntime:
 *   "The input tensor cannot be reshaped to the requested shape"): every batch fails.
 * - `'batches-of-2'`: a dynamic batch ['batch',3,32,32], Reshape to [1,6,1024]: a batch of one image runs, a batch of
 *   two fails the same way.
 * The declared output [B,6,1024] is what camtrack reads at load (ultralytics layout, 2 classes), so Pipeline.create()
 * succeeds.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { encodeModel, floatTensor, int64Tensor, modelHeader, node, TensorDataType } from '../../dist/models/onnx-proto.js';

export function writeFailingModel(dir: string, fails: 'always' | 'batches-of-2' = 'always'): string {
  const file = path.join(dir, `fails-${fails}.onnx`);
  const batch = fails === 'always' ? 1 : 'batch';
  const bytes = encodeModel({
    ...modelHeader('camtrack-test'),
    graph: {
      name: 'fails-at-run',
      node: [
        node('Conv', ['images', 'w'], ['features'], [{ name: 'kernel_shape', ints: [1, 1] }]),
        node('Reshape', ['features', 'shape'], ['output0']),
      ],
      initializer: [floatTensor('w', [6, 3, 1, 1], Array.from({ length: 18 }, (_, i) => i / 18)), int64Tensor('shape', [3], fails === 'always' ? [1, 7, 1000] : [1, 6, 1024])],
      input: [{ name: 'images', elemType: TensorDataType.FLOAT, shape: [batch, 3, 32, 32] }],
      output: [{ name: 'output0', elemType: TensorDataType.FLOAT, shape: [batch, 6, 1024] }],
    },
    metadataProps: [],
  });
  writeFileSync(file, bytes);
  return file;
}
