/**
 * Worker entry of the `pipeline-null` trial: attaches to the native pipeline exactly like the onnxruntime worker
 * (src/backends/ort-worker.ts: lent Float32Array slots, onSubmit bound to this thread) but "infers" nothing — it
 * completes every batch at once with an all-zero output (no detections). What is left is the pipeline's own cost:
 * decode, letterbox, batching, the worker round trip, postprocess, tracker and delivery.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { loadNative } from '../native.js';

export interface NullWorkerData {
  pipelineId: number;
  inputElems: number;
  outputElems: number;
  slots: number;
}

const data = workerData as NullWorkerData;
const port = parentPort!;
const native = loadNative();
const inputs = Array.from({ length: data.slots }, () => new Float32Array(data.inputElems));
const outputs = Array.from({ length: data.slots }, () => new Float32Array(data.outputElems));
let workerIndex = -1;
workerIndex = native.attachWorker(
  data.pipelineId,
  inputs,
  outputs,
  (slot: number) => native.completeBatch(data.pipelineId, workerIndex, slot, true),
  'bench-null',
);
port.on('message', (m: { type: string }) => {
  if (m.type === 'close') {
    native.detachWorker(data.pipelineId, workerIndex);
    port.postMessage({ type: 'closed' });
    port.close();
  }
});
port.postMessage({ type: 'ready' });
