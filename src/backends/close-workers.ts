/**
 * Stops the worker threads that attach to a native pipeline (the onnxruntime workers, ort-worker.ts; the bench's
 * null worker; the tests' crashing worker), which all speak one close protocol: 'close' → the worker detaches from
 * the pipeline and answers 'closed' → it is terminated. One that has not exited `timeoutMs` after 'close' is
 * terminated anyway. Workers in `exited` are skipped (their 'exit' has come and does not come twice). Resolves when
 * every worker has exited.
 */
import type { Worker } from 'node:worker_threads';

export async function closeWorkers(workers: readonly Worker[], timeoutMs: number, exited?: ReadonlySet<Worker>): Promise<void> {
  await Promise.all(
    workers
      .filter((w) => !exited?.has(w))
      .map(
        (w) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void w.terminate(), timeoutMs);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.on('message', (msg: { type: string }) => {
              if (msg.type === 'closed') void w.terminate();
            });
            w.postMessage({ type: 'close' });
          }),
      ),
  );
}
