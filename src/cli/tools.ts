import { readFile } from 'node:fs/promises';

import { evaluateHota, evaluateMot } from '../eval/mot-metrics.js';
import { parseMotFile } from '../eval/mot-format.js';
import { readModelInfo } from '../models/model-info.js';
import { resolveModel } from '../models/resolve.js';
import { numOpt, opt, parseArgs } from './args.js';

/**
 * `camtrack eval --gt gt.txt --res res.txt [--min-gt-conf N] [--json]`
 *
 * Ground-truth rows whose conf ("consider" flag) is below `--min-gt-conf` (default 1) are left out of both MOT
 * metrics and HOTA, as py-motmetrics' eval_motchallenge.py and TrackEval do with MOT16/17/20's 0-flagged rows;
 * `--min-gt-conf -1` keeps every row. Rows of a gt file without a conf column (six fields) are always kept.
 */
export async function runEval(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const gtPath = opt(args, 'gt'),
    resPath = opt(args, 'res');
  if (!gtPath || !resPath) throw new Error('usage: camtrack eval --gt <gt.txt> --res <res.txt> [--min-gt-conf N] [--json]');
  const minConf = numOpt(args, 'min-gt-conf', 1, -1, 1);
  const options = minConf === -1 ? {} : { minGtConfidence: minConf };
  // NaN, not parseMotFile's -1, for a missing conf column: a gt file without the flag marks nothing as ignored,
  // and the metrics keep NaN-conf rows whatever the threshold.
  const gt = parseMotFile(await readFile(gtPath, 'utf8'), { missingConf: NaN });
  const res = parseMotFile(await readFile(resPath, 'utf8'));
  const m = evaluateMot(gt, res, options);
  const h = evaluateHota(gt, res, options);
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
