// A process that exits with a pipeline open, for test/addon/process-exit.test.ts:
//   node exit-scenario.mjs <scenario> <model> <video> [fraction]
// It prints 'EXITING' on stdout right before it exits (or, for 'signal', once results flow and it waits to be killed).
//   exit     process.exit(3) at the 20th result of a file stream's results() loop
//   throw    an uncaught Error('scenario boom') thrown inside that loop
//   signal   a looping file stream runs until the parent signals the process (no handler: Node's default)
//   busy     four looping streams on two workers; process.exit(3) from a 'result' listener (inside the delivery)
//            at the 10th result, with results queued in the iterators and batches in flight on both workers
//   create   times one Pipeline.create() (two workers) and closes it, then process.exit(3) that time × <fraction>
//            into a second one: while its workers load onnxruntime and the model (most of a create)
//   owner    a worker thread owns a native pipeline that delivers (test/helpers/pipeline-owner-worker.mjs) and the
//            main thread calls process.exit(3): Node tears that thread's environment down under the pipeline
import { Worker } from 'node:worker_threads';

import { Pipeline } from '../../dist/index.js';

const [scenario, model, video, fraction] = process.argv.slice(2);
const busy = scenario === 'busy';
const options = { model, inference: { workers: busy || scenario === 'create' ? 2 : 1 }, batching: { maxBatchSize: 4 } };
const exiting = () => process.stdout.write('EXITING\n');
if (scenario === 'owner') {
  new Worker(new URL('./pipeline-owner-worker.mjs', import.meta.url), { workerData: { model, video } }).once('message', () => {
    exiting();
    process.exit(3);
  });
} else {
  await runPipeline();
}

async function runPipeline() {
  if (scenario === 'create') {
    const t0 = performance.now();
    await (await Pipeline.create(options)).close();
    setTimeout(() => {
      exiting();
      process.exit(3);
    }, (performance.now() - t0) * Number(fraction));
  }
  const pipeline = await Pipeline.create(options);
  const streams = Array.from({ length: busy ? 4 : 1 }, (_, i) =>
    pipeline.addStream({ id: `s${i}`, url: video, loop: scenario !== 'exit' && scenario !== 'throw' }),
  );
  if (busy) {
    let n = 0;
    pipeline.on('result', () => {
      if (++n === 10) {
        exiting();
        process.exit(3);
      }
    });
  }
  let n = 0;
  for await (const _ of streams[0].results()) {
    if (++n !== 20) continue;
    exiting();
    if (scenario === 'exit') process.exit(3);
    if (scenario === 'throw') throw new Error('scenario boom');
  }
}
