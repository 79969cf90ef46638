// A worker thread's environment torn down under the native pipeline it owns while that pipeline keeps delivering:
//   node owner-teardown.mjs <model> <video> <rounds>
// Each round starts test/helpers/pipeline-owner-worker.mjs with `siblings`, attaches its two inference workers
// (test/helpers/crashing-worker.mjs, never crashing) from this thread, so they are not torn down with the owner and
// batches keep completing, waits until results flow, terminate()s the owner and waits for its exit, then detaches the
// workers. Before the fix in native/binding/pipeline_wrap.cpp the pipeline's threads kept calling its delivery
// function after Node had deleted it with the owner's environment (a use after free); with glibc's malloc debug
// perturbing freed memory (test/addon/owner-teardown.test.ts) that crashed. Prints 'OK <rounds>' and exits 0.
import { Worker } from 'node:worker_threads';

const [model, video, rounds] = process.argv.slice(2);
const once = (w, ev) => new Promise((resolve) => w.once(ev, resolve));
// The owner's next message, or an error naming the round if it exits first (instead of waiting for ever).
const nextMessage = (owner, round, what) =>
  new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`round ${round}: the owner exited (code ${code}) before ${what}`));
    owner.once('exit', onExit);
    owner.once('message', (m) => {
      owner.off('exit', onExit);
      resolve(m);
    });
  });

for (let r = 0; r < Number(rounds); r++) {
  const owner = new Worker(new URL('./pipeline-owner-worker.mjs', import.meta.url), {
    workerData: { model, video, siblings: true },
  });
  const { pipelineId, inputElems, outputElems } = await nextMessage(owner, r, 'posting its pipeline id');
  const workers = [];
  for (let i = 0; i < 2; i++) {
    const w = new Worker(new URL('./crashing-worker.mjs', import.meta.url), {
      workerData: { pipelineId, inputElems, outputElems, crashAfter: 0 },
    });
    await once(w, 'message');
    workers.push(w);
  }
  const delivering = nextMessage(owner, r, 'delivering');
  owner.postMessage('attached');
  await delivering;
  await Promise.all([once(owner, 'exit'), owner.terminate()]);
  for (const w of workers) {
    w.postMessage({ type: 'close' });
    await once(w, 'exit');
  }
}
process.stdout.write(`OK ${rounds}\n`);
