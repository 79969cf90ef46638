/**
 * One onnxruntime-node inference worker (runs inside a worker_threads Worker).
 *
 * Why a worker: onnxruntime-node's session.run() does the whole inference synchronously on the calling JS thread,
 * so on the main thread it would freeze result delivery. Each worker owns one session and its batch buffers:
 * plain Float32Arrays allocated once here and lent to the native pipeline (attachWorker), which letterboxes frames
 * straight into them. The native batcher wakes this worker through a thread-safe function bound to THIS thread
 * (onSubmit), so a batch never passes through the main thread; the worker reports back with completeBatch().
 *
 * Lifetime: created by OnnxRuntimeBackend; 'close' message → detach from the pipeline (after the pipeline has
 * stopped, so no batch is in flight), release the session, exit. When the process exits instead, the backend's exit
 * gate keeps this thread out of onnxruntime before Node terminates it (see gated()).
 */
import { parentPort, workerData } from 'node:worker_threads';

import { loadNative } from '../native.js';
import { GATE_BUSY, GATE_CLOSED, ortLogLevel, ortSessionOptions } from './onnxruntime.js';
import { createSessionOnFirstProvider } from './providers.js';

export interface OrtWorkerData {
  pipelineId: number;
  modelPath: string;
  inputName: string;
  outputName: string;
  /** [B,3,H,W] of one batch tensor. */
  inputDims: [number, number, number, number];
  outputElemsPerImage: number;
  /** True when the model's batch dimension is dynamic: tensors are cut to the images in the batch. */
  dynamicBatch: boolean;
  slots: number;
  intraOpThreads: number;
  executionProviders: string[];
  name: string;
  /** 'fallback': the circuit breaker's fallback worker (attached to the pipeline's fallback pool). */
  pool: 'primary' | 'fallback';
  /** The exit gate shared with the backend (GATE_CLOSED, GATE_BUSY in onnxruntime.ts). */
  gate: SharedArrayBuffer;
  /** TEST ONLY (inference.faults): [0] = batches still to fail, shared by the backend's primary workers (the fallback has its own). */
  faults: SharedArrayBuffer;
  /** TEST ONLY: this worker exits (process.exit in the thread) after completing this many batches. */
  killAfterBatches?: number;
}

const data = workerData as OrtWorkerData;
const port = parentPort!;
const gate = new Int32Array(data.gate);

/**
 * Every native call that lasts — loading onnxruntime-node and the addon, session create, run, release — goes through
 * here: counted busy until it settles, refused once the gate is closed (the process is exiting: Node is about to
 * terminate this thread, which must not happen inside such a call).
 */
async function gated<T>(call: () => Promise<T>): Promise<T> {
  Atomics.add(gate, GATE_BUSY, 1);
  try {
    if (Atomics.load(gate, GATE_CLOSED) !== 0) throw new Error('the process is exiting');
    return await call();
  } finally {
    Atomics.sub(gate, GATE_BUSY, 1);
    Atomics.notify(gate, GATE_BUSY);
  }
}

async function main(): Promise<void> {
  const { ort, native, session, provider, skipped } = await gated(async () => {
    const ort = (await import('onnxruntime-node')).default;
    ort.env.logLevel = ortLogLevel(); // before the first session: onnxruntime reads it once per process
    const created = await createSessionOnFirstProvider(ort, data.modelPath, data.executionProviders, (eps) =>
      ortSessionOptions(data.intraOpThreads, eps),
    );
    return { ort, native: loadNative(), ...created };
  });
  const [B, C, H, W] = data.inputDims;
  const imageElems = C * H * W;
  const inputs: Float32Array[] = [];
  const outputs: Float32Array[] = [];
  const fullTensors: InstanceType<typeof ort.Tensor>[] = [];
  for (let i = 0; i < data.slots; i++) {
    const input = new Float32Array(B * imageElems);
    inputs.push(input);
    outputs.push(new Float32Array(B * data.outputElemsPerImage));
    fullTensors.push(new ort.Tensor('float32', input, [B, C, H, W]));
  }
  let workerIndex = -1;
  let closing = false;
  // Every submitted batch is completed exactly once, ok or not, whatever throws: a batch left in flight would stall
  // every stream behind it (batches are postprocessed in order), and the addon ignores what onSubmit throws.
  const fail = (slot: number, err: unknown): void =>
    native.completeBatch(data.pipelineId, workerIndex, slot, false, err instanceof Error ? err.message : String(err));
  const faults = new Int32Array(data.faults);
  let completed = 0;
  const onSubmit = (slot: number, images: number): void => {
    // Fault injection (test only): the batch fails as a backend error would, without running.
    if (Atomics.load(faults, 0) > 0 && Atomics.sub(faults, 0, 1) > 0) {
      fail(slot, new Error(`injected fault (inference.faults.${data.pool === 'fallback' ? 'fallback.' : ''}failNextBatches)`));
      return;
    }
    let run: Promise<Record<string, InstanceType<typeof ort.Tensor>>>;
    try {
      const tensor =
        data.dynamicBatch && images < B
          ? new ort.Tensor('float32', inputs[slot]!.subarray(0, images * imageElems), [images, C, H, W])
          : fullTensors[slot]!;
      run = gated(() => session.run({ [data.inputName]: tensor }));
    } catch (err) {
      fail(slot, err);
      return;
    }
    run.then(
      (result) => {
        try {
          const tensor = result[data.outputName];
          if (!tensor) throw new Error(`the model gave no output named ${data.outputName}`);
          // resolveModel rejects non-float32 outputs at load; this guards against a session that disagrees with
          // the file's declared type, since copying other element types into floats would give garbage boxes.
          if (!(tensor.data instanceof Float32Array)) throw new Error(`output ${data.outputName} is ${tensor.type}, expected float32`);
          const out = tensor.data;
          outputs[slot]!.set(out.length <= outputs[slot]!.length ? out : out.subarray(0, outputs[slot]!.length));
        } catch (err) {
          fail(slot, err);
          return;
        }
        native.completeBatch(data.pipelineId, workerIndex, slot, true);
        if (data.killAfterBatches !== undefined && ++completed >= data.killAfterBatches) {
          // Fault injection (test only): the thread dies between calls, as a crashed worker would.
          setImmediate(() => process.exit(1));
        }
      },
      (err: unknown) => fail(slot, err),
    );
  };
  workerIndex = native.attachWorker(data.pipelineId, inputs, outputs, onSubmit, data.name, data.pool);
  port.on('message', (msg: { type: string }) => {
    if (msg.type === 'close' && !closing) {
      closing = true;
      native.detachWorker(data.pipelineId, workerIndex);
      void gated(() => session.release()).finally(() => {
        port.postMessage({ type: 'closed' });
        port.close();
      });
    }
  });
  port.postMessage({ type: 'ready', workerIndex, provider, skipped });
}

main().catch((err: Error & { code?: string; hint?: string }) => {
  port.postMessage({ type: 'error', message: err.message, code: err.code, hint: err.hint, stack: err.stack });
});
