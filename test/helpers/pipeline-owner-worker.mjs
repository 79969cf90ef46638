// A worker thread that owns a native pipeline, for the 'owner' scenario of test/helpers/exit-scenario.mjs: a looping
// file stream on two test/helpers/crashing-worker.mjs inference workers that never crash (no onnxruntime, so what is
// tested is the addon's own teardown), driven directly as test/addon/worker-exit.test.ts does. Posts 'delivering'
// once results flow, and never closes the pipeline: its environment is torn down under it.
// With workerData.siblings (test/helpers/owner-teardown.mjs) it starts no inference workers: it posts
// { pipelineId, inputElems, outputElems } and its parent attaches them from its own thread, so batches keep
// completing (and the pipeline keeps delivering) while this thread's environment is torn down.
import { parentPort, Worker, workerData } from 'node:worker_threads';

import { normaliseConfig, normaliseStream } from '../../dist/config.js';
import { resolveModel } from '../../dist/models/resolve.js';
import { loadNative } from '../../dist/native.js';
import { toNativePipelineConfig, toNativeStream } from '../../dist/pipeline.js';

const { model: modelPath, video, siblings } = workerData;
const cfg = normaliseConfig({ model: modelPath, batching: { maxBatchSize: 4, maxWaitMs: 20 }, resultCapacity: 64 });
const model = await resolveModel(cfg.model);
const batch = model.fixedBatch ?? cfg.batching.maxBatchSize;
let delivered = 0;
// The delivery callback refers to `np`, as src/pipeline.ts's does (its closure holds the Pipeline): the thread-safe
// function holds the callback, so the pipeline stays reachable while it delivers. Without that reference nothing
// refers to `np` once this module's top level has run; V8 may then collect it, its finalizer stops the pipeline, and
// this thread ends with exit code 0 before delivering (test/addon/owner-teardown.test.ts hung on it under load; a
// forced gc() after addStream reproduces it every time).
const np = new (loadNative().NativePipeline)(
  toNativePipelineConfig(model, cfg, batch),
  (results) => {
    if (np === undefined) return; // the reference above; deliveries start after addStream, once np is set
    delivered += results.length;
    if (delivered >= 20 && delivered - results.length < 20) parentPort.postMessage('delivering');
  },
);
const inputElems = batch * 3 * model.inputWidth * model.inputHeight;
const outputElems = batch * model.outputElemsPerImage;
if (siblings) {
  parentPort.postMessage({ pipelineId: np.id, inputElems, outputElems });
  await new Promise((resolve) => parentPort.once('message', resolve));
}
for (let i = 0; i < (siblings ? 0 : 2); i++) {
  const w = new Worker(new URL('./crashing-worker.mjs', import.meta.url), {
    workerData: {
      pipelineId: np.id,
      inputElems,
      outputElems,
      crashAfter: 0,
    },
  });
  await new Promise((resolve) => w.once('message', resolve));
}
np.addStream(toNativeStream(normaliseStream({ id: 's0', url: video, loop: true }, 'stream', cfg.tracker)));
