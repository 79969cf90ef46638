import { readFile } from 'node:fs/promises';

import { evaluateHota, evaluateMot } from '../eval/mot-metrics.js';
import { parseMotFile } from '../eval/mot-format.js';
import { readModelInfo } from '../models/model-info.js';
import { fetchModel, MODELS, modelUrl, type ModelName } from '../models/registry.js';
import { resolveModel } from '../models/resolve.js';

/**
 * `camtrack eval --gt gt.txt --res res.txt [--min-gt-conf N] [--json]`
 *
 * Ground-truth rows whose conf ("consider" flag) is below `--min-gt-conf` (default 1) are left out of both MOT
 * metrics and HOTA, as py-motmetrics' eval_motchallenge.py and TrackEval do with MOT16/17/20's 0-flagged rows;
 * `--min-gt-conf -1` keeps every row. Rows of a gt file without a conf column (six fields) are always kept.
 */
export async function runEval(args: { gt: string; res: string; minGtConf: number; json?: boolean }): Promise<number> {
  const minConf = args.minGtConf;
  const options = minConf === -1 ? {} : { minGtConfidence: minConf };
  // NaN, not parseMotFile's -1, for a missing conf column: a gt file without the flag marks nothing as ignored,
  // and the metrics keep NaN-conf rows whatever the threshold.
  const gt = parseMotFile(await readFile(args.gt, 'utf8'), { missingConf: NaN });
  const res = parseMotFile(await readFile(args.res, 'utf8'));
  const m = evaluateMot(gt, res, options);
  const h = evaluateHota(gt, res, options);
  const out = { ...m, hota: h.hota, detA: h.detA, assA: h.assA };
  if (args.json) {
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
export async function runModelsInfo(_options: object, file: string): Promise<number> {
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

/** `camtrack models list`: the models `models fetch` knows, with origin, license, size and checksum. */
export async function runModelsList(): Promise<number> {
  for (const [name, m] of Object.entries(MODELS)) {
    console.log(`${name.padEnd(18)} ${m.description}; ${(m.size / 1e6).toFixed(1)} MB; license ${m.license}`);
    console.log(`${''.padEnd(18)} ${modelUrl(m)}\n${''.padEnd(18)} sha256 ${m.sha256}`);
  }
  console.log('\nAGPL-3.0 (Ultralytics) weights: do not ship them in a product without complying with the AGPL.');
  return 0;
}

/** `camtrack models fetch <name> [--out DIR] [--force] [--base-url URL]` */
export async function runModelsFetch(options: { out: string; force?: boolean; baseUrl?: string }, name: string): Promise<number> {
  const r = await fetchModel(name as ModelName, {
    outDir: options.out,
    force: options.force ?? false,
    ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
  });
  console.log(`${r.file} (${r.downloaded ? 'downloaded' : 'already there'}, sha256 ${MODELS[name as ModelName].sha256} verified)`);
  return 0;
}
