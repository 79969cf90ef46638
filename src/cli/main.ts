/**
 * `camtrack` command line: demo, run, doctor, bench, eval, track, models.
 * Every command returns an exit code; errors print their code and hint, never a stack (unless CAMTRACK_DEBUG=1).
 */
import { runBench } from './bench.js';
import { runDemo } from './demo.js';
import { runDoctor } from './doctor.js';
import { runEval, runModels } from './tools.js';
import { runRun } from './run.js';
import { runTrack } from './track.js';

const USAGE = `camtrack — real-time detection and tracking on many camera streams

Usage:
  camtrack demo [--streams N] [--frames N]          built-in scene with known ground truth (no GPU, no internet)
  camtrack demo --model <file.onnx> --source <url|file> [--source ...] [--gt <gt.txt> ...] [--duration S]
  camtrack run --config <file.json|yaml> [--max-frames N] [--duration S]   results as JSON lines on stdout
  camtrack doctor [--json]                            what this machine and build support (CUDA, NVDEC, TensorRT, FFmpeg, onnxruntime)
  camtrack bench [--model f] [--source f] [--frames N] [--out file.json]   pipeline fps vs raw onnxruntime, JSON
  camtrack eval --gt <gt.txt> --res <res.txt> [--min-gt-conf 1] [--json]   MOT metrics (MOTA, MOTP, IDF1, HOTA, …)
  camtrack track --det <det.txt> --out <res.txt> [--tracker bytetrack|sort|iou] [--min-score S] [--frame-rate N]
                 [--track-buffer-seconds S] [--class-aware]   track MOTChallenge detections, write MOT results
  camtrack models info <file.onnx>                    inputs, outputs, layout, classes of a model

Docs: README.md, docs/`;

export async function runCli(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'demo':
        return await runDemo(rest);
      case 'run':
        return await runRun(rest);
      case 'doctor':
        return await runDoctor(rest);
      case 'bench':
        return await runBench(rest);
      case 'eval':
        return await runEval(rest);
      case 'track':
        return await runTrack(rest);
      case 'models':
        return await runModels(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return cmd === undefined ? 1 : 0;
      default:
        console.error(`camtrack: unknown command ${JSON.stringify(cmd)}\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    const e = err as Error & { code?: string; hint?: string };
    console.error(`camtrack ${cmd}: ${e.code ? `[${e.code}] ` : ''}${e.message}`);
    if (e.hint) console.error(`  hint: ${e.hint}`);
    if (process.env.CAMTRACK_DEBUG === '1') console.error(e.stack);
    return 1;
  }
}
