/**
 * Child-process entry of `camtrack bench`: receives one TrialSpec over IPC, runs that trial in this fresh process,
 * sends back { type: 'result', run } or { type: 'error', … } and exits. Started by runner.ts with child_process.fork.
 */
import { runNullTrial } from './null-trial.js';
import { runOrtRawTrial } from './ort-raw.js';
import { runPipelineTrial } from './pipeline-trial.js';
import { runPushTrial } from './push-trial.js';
import type { ChildMessage, TrialRun, TrialSpec } from './types.js';

async function runTrial(spec: TrialSpec): Promise<TrialRun> {
  switch (spec.trial) {
    case 'ort-raw':
    case 'ort-raw-seq':
    case 'ort-raw-main':
      return runOrtRawTrial(spec);
    case 'pipeline':
    case 'pipeline-4x':
      return runPipelineTrial(spec);
    case 'pipeline-null':
      return runNullTrial(spec);
    case 'push-jpeg':
    case 'file-mjpeg':
    case 'push-jpeg-null':
    case 'file-mjpeg-null':
      return runPushTrial(spec);
  }
}

function send(msg: ChildMessage): Promise<void> {
  return new Promise((resolve) => process.send!(msg, () => resolve()));
}

process.once('message', (spec: TrialSpec) => {
  runTrial(spec).then(
    async (run) => {
      await send({ type: 'result', run });
      process.exit(0);
    },
    async (err: Error & { code?: string }) => {
      await send({ type: 'error', message: err.message, ...(err.code ? { code: err.code } : {}), ...(err.stack ? { stack: err.stack } : {}) });
      process.exit(1);
    },
  );
});
