import { readFile } from 'node:fs/promises';

import { evaluateHota, evaluateMot } from '../eval/mot-metrics.js';
import { parseMotFile } from '../eval/mot-format.js';
import { readModelInfo } from '../models/model-info.js';
import { resolveModel } from '../models/resolve.js';
import { opt, parseArgs } from './args.js';

/** `camtrack eval --gt gt.txt --res res.txt [--json]` */
export async function runEval(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const gtPath = opt(args, 'gt'),
    resPath = opt(args, 'res');
  if (!gtPath || !resPath) throw new Error('usage: camtrack eval --gt <gt.txt> --res <res.txt> [--json]');
  const gt = parseMotFile(await readFile(gtPath, 'utf8'));
  const res = parseMotFile(await readFile(resPath, 'utf8'));
  const m = evaluateMot(gt, res);
  const h = evaluateHota(gt, res);
  const out = { ...m, hota: h.hota, detA: h.detA, assA: h.assA };
  if (args.flags.has('json')) {
    console.log(JSON.stringify(out, null, 2));
  } else {
    const pct = (v: number): string => (100 * v).toFixed(1);
    console.log(
      `MOTA ${pct(m.mota)}  MOTP(1-IoU) ${m.motp.toFixed(3)}  IDF1 ${pct(m.idf1)}  HOTA ${pct(h.hota)}  ` +
        `IDsw ${m.numSwitches}  FP ${m.numFalsePositives}  FN ${m.numMisses}  MT ${m.mostlyTracked}  ML ${m.mostlyLost}`,
    );
  }
  return 0;
}

/** `camtrack models info <file.onnx>` */
export async function runModels(argv: string[]): Promise<number> {
  const [sub, file] = argv;
  if (sub !== 'info' || !file) throw new Error('usage: camtrack models info <file.onnx>');
  const info = await readModelInfo(file);
  let resolved: unknown;
  try {
    const r = await resolveModel({ path: file });
    resolved = {
      layout: r.layout,
      input: `${r.inputWidth}x${r.inputHeight} ${r.channelOrder} ${r.letterbox} scale=${r.scale}`,
      numClasses: r.numClasses,
      numAnchors: r.numAnchors,
      batch: r.fixedBatch ?? 'dynamic',
    };
  } catch (err) {
    resolved = { error: (err as Error).message };
  }
  const { classNames, ...rest } = info;
  console.log(JSON.stringify({ ...rest, classNames: classNames?.length ? `${classNames.length} names: ${classNames.slice(0, 5).join(', ')}, …` : undefined, camtrack: resolved }, null, 2));
  return 0;
}
