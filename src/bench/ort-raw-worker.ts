/**
 * Worker entry of the `ort-raw` trial: one onnxruntime-node session created with exactly the options the
 * pipeline's inference worker uses (src/backends/ort-worker.ts), run back to back on a pre-filled input tensor.
 * Protocol with the trial (parent thread): workerData → warm-up runs → 'warm' → wait for 'go' → `iterations`
 * timed runs → 'done' with the per-run latencies (then the session is released). The tensor is built once;
 * nothing is allocated per run by this code (onnxruntime allocates its output tensor, as it does in the pipeline).
 */
import { parentPort, workerData } from 'node:worker_threads';

import { runOrtLoop, type OrtLoopOptions } from './ort-raw.js';

const data = workerData as OrtLoopOptions;
const port = parentPort!;

runOrtLoop(data, {
  warm: () =>
    new Promise<void>((resolve) => {
      port.postMessage({ type: 'warm' });
      port.once('message', () => resolve());
    }),
  // 'done' as soon as the timed runs end (before the session is released): the parent stops its clock on it.
  timed: (latenciesMs) => port.postMessage({ type: 'done', latenciesMs }),
}).catch((err: Error) => port.postMessage({ type: 'error', message: err.message, stack: err.stack }));
