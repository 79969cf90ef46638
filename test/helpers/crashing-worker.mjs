// An inference worker thread for test/addon/worker-exit.test.ts: attaches to a native pipeline like the onnxruntime
// worker (src/backends/ort-worker.ts) and completes batches at once with a zero output (no detections), until its
// `crashAfter`-th batch (0: never): that one it never completes; it throws an uncaught error instead, so the thread dies
// attached, with a batch in flight — what an ort-worker bug or a terminate() would do.
import { parentPort, workerData } from 'node:worker_threads';

import { loadNative } from '../../dist/native.js';

const { pipelineId, inputElems, outputElems, crashAfter } = workerData;
const native = loadNative();
const inputs = [new Float32Array(inputElems), new Float32Array(inputElems)];
const outputs = [new Float32Array(outputElems), new Float32Array(outputElems)];
let batches = 0;
let index = -1;
index = native.attachWorker(
  pipelineId,
  inputs,
  outputs,
  (slot) => {
    if (crashAfter > 0 && ++batches >= crashAfter) {
      setImmediate(() => {
        throw new Error(`crashing-worker: dies at batch ${batches}`);
      });
      return;
    }
    native.completeBatch(pipelineId, index, slot, true);
  },
  crashAfter > 0 ? 'crashing' : 'steady',
);
parentPort.on('message', (m) => {
  if (m.type === 'close') {
    native.detachWorker(pipelineId, index);
    parentPort.postMessage({ type: 'closed' });
    parentPort.close();
  }
});
parentPort.postMessage({ type: 'ready' });
