/**
 * CLEAR-MOT and identity (IDF1) metrics with py-motmetrics semantics (cheind/py-motmetrics: `MOTAccumulator`,
 * `metrics.create()`, `utils.compare_to_groundtruth(gt, hyp, 'iou', distth)`), written from its documented
 * behaviour so numbers computed here can be compared with published py-motmetrics results.
 *
 * Per frame (MOTAccumulator.update):
 *  1. Carry-over: a ground-truth object that was matched in the previous update to hypothesis h keeps h when h
 *     is present and their distance is allowed (finite) → MATCH.
 *  2. The remaining objects/hypotheses are assigned by minimum total distance (Hungarian; non-finite distance =
 *     do-not-pair). A pair whose object was last paired with a different hypothesis is a SWITCH, else a MATCH.
 *     (TRANSFER / ASCEND / MIGRATE are counted alongside, as py-motmetrics does.)
 *  3. Unassigned objects are MISSes, unassigned hypotheses are FPs.
 * Metrics (metrics.py): num_detections = matches + switches; MOTA = 1 − (FN + IDSW + FP) / num_objects;
 * MOTP = Σ distance / num_detections (the *distance* MOTP: mean(1 − IoU) for IoU distances); MT/PT/ML from the
 * ratio of an object's non-MISS frames to its frames (≥ 0.8 / [0.2, 0.8) / < 0.2); a fragmentation is a
 * tracked → missed transition between an object's first and last tracked frame; IDF1/IDP/IDR from a global
 * one-to-one assignment of object ids to hypothesis ids maximising the number of frames in which the pair is
 * matchable (IDTP), as in Ristani et al. 2016. Divisions by zero give NaN/Infinity like numpy.
 *
 * Everything here is single-threaded evaluation code: a MotAccumulator is owned by its caller and is not safe
 * for concurrent use; the free functions are pure.
 */
import { linearSumAssignment } from './hungarian.js';
import { byFrame, type MotRow } from './mot-format.js';

/** Event types kept per object/hypothesis (py-motmetrics' non-RAW core events). */
export type MotEventType = 'MATCH' | 'SWITCH' | 'MISS' | 'FP';

/** One accumulator event. `oid`/`hid` are undefined for FP/MISS respectively; `distance` is NaN unless matched. */
export interface MotEvent {
  frame: number;
  type: MotEventType;
  oid: number | undefined;
  hid: number | undefined;
  distance: number;
}

/** Options for {@link MotAccumulator}. */
export interface MotAccumulatorOptions {
  /**
   * Upper bound (in frame-id units) on the time since an object was last seen for a re-assignment to count as
   * a switch. Default: Infinity (py-motmetrics' default). Valid: ≥ 0.
   */
  maxSwitchTime?: number;
}

/**
 * Accumulates per-frame matching events. Call {@link update} once per frame, in increasing frame order, then
 * {@link computeMotMetrics}. Owns its event list; not thread-safe (single caller).
 */
export class MotAccumulator {
  /** Events in the order they were generated. */
  readonly events: MotEvent[] = [];

  /** Number of update() calls (frames). */
  numFrames = 0;
  /** py-motmetrics TRANSFER events: a hypothesis is matched to an object other than the one it last followed. */
  numTransfer = 0;
  /** ASCEND: a SWITCH to a hypothesis never matched before. */
  numAscend = 0;
  /** MIGRATE: a TRANSFER to an object never matched before. */
  numMigrate = 0;

  readonly #maxSwitchTime: number;
  /** object id → hypothesis it was last paired with. */
  readonly #pairedHyp = new Map<number, number>();
  /** hypothesis id → object it was last paired with (set by step 2 only, as in py-motmetrics). */
  readonly #pairedObj = new Map<number, number>();
  /** object id → frame of its most recent occurrence (any event). */
  readonly #lastOccurrence = new Map<number, number>();
  /** object id → frame of its most recent match. */
  readonly #lastMatch = new Map<number, number>();
  /** hypothesis id → frame of its most recent match. */
  readonly #hypHistory = new Map<number, number>();
  #lastUpdateFrame: number | undefined;

  // Raw co-occurrence counts for the identity metrics.
  /** object id → [number of distinct frames it occurs in, last frame counted]. */
  readonly objFrameCounts = new Map<number, { count: number; last: number }>();
  /** hypothesis id → [number of distinct frames it occurs in, last frame counted]. */
  readonly hypFrameCounts = new Map<number, { count: number; last: number }>();
  /** object id → (hypothesis id → number of frames where the pair had a finite distance). */
  readonly pairCounts = new Map<number, Map<number, number>>();

  constructor(options: MotAccumulatorOptions = {}) {
    const t = options.maxSwitchTime ?? Infinity;
    if (!(t >= 0)) {
      throw new RangeError(`Expected non-negative number for maxSwitchTime but received ${String(t)} of type ${typeof t}`);
    }
    this.#maxSwitchTime = t;
  }

  /**
   * Adds one frame.
   * @param oids ground-truth object ids present in this frame
   * @param hids hypothesis (track) ids present in this frame
   * @param dists `oids.length` rows × `hids.length` columns of distances; NaN/Infinity = do not pair.
   *   May be empty when either side is empty.
   * @param frameId this frame's id; must increase between calls.
   */
  update(
    oids: readonly number[],
    hids: readonly number[],
    dists: ReadonlyArray<ArrayLike<number>>,
    frameId: number,
  ): void {
    const no = oids.length;
    const nh = hids.length;
    if (no > 0 && nh > 0) {
      if (dists.length !== no || dists.some((r) => r.length !== nh)) {
        throw new RangeError(`Expected a ${no}x${nh} distance matrix for frame ${frameId}`);
      }
    }
    if (this.#lastUpdateFrame !== undefined && !(frameId > this.#lastUpdateFrame)) {
      throw new RangeError(
        `Expected frame ids in increasing order but received ${frameId} after ${this.#lastUpdateFrame}`,
      );
    }
    this.numFrames++;
    this.#countRaw(oids, hids, dists, frameId);

    const oMatched = new Uint8Array(no);
    const hMatched = new Uint8Array(nh);
    if (no > 0 && nh > 0) {
      // 1. Carry over pairings from the previous update when still allowed.
      for (let i = 0; i < no; i++) {
        const o = oids[i]!;
        const prevH = this.#pairedHyp.get(o);
        if (prevH === undefined || this.#lastMatch.get(o) !== this.#lastUpdateFrame) continue;
        let j = -1;
        for (let k = 0; k < nh; k++) {
          if (!hMatched[k] && hids[k] === prevH) {
            j = k;
            break;
          }
        }
        if (j < 0) continue;
        const d = dists[i]![j]!;
        if (!Number.isFinite(d)) continue;
        oMatched[i] = 1;
        hMatched[j] = 1;
        this.events.push({ frame: frameId, type: 'MATCH', oid: o, hid: prevH, distance: d });
        this.#lastMatch.set(o, frameId);
        this.#hypHistory.set(prevH, frameId);
      }

      // 2. Minimum-cost assignment of what is left.
      const rest: number[][] = [];
      for (let i = 0; i < no; i++) {
        const row = new Array<number>(nh);
        for (let j = 0; j < nh; j++) row[j] = oMatched[i] || hMatched[j] ? NaN : dists[i]![j]!;
        rest.push(row);
      }
      for (const { row: i, col: j } of linearSumAssignment(rest)) {
        const o = oids[i]!;
        const h = hids[j]!;
        const d = rest[i]![j]!;
        const prevH = this.#pairedHyp.get(o);
        const lastSeen = this.#lastOccurrence.get(o);
        const isSwitch =
          prevH !== undefined &&
          prevH !== h &&
          lastSeen !== undefined &&
          Math.abs(frameId - lastSeen) <= this.#maxSwitchTime;
        if (isSwitch && !this.#hypHistory.has(h)) this.numAscend++;
        const prevO = this.#pairedObj.get(h);
        if (prevO !== undefined && prevO !== o) {
          if (!this.#lastMatch.has(o)) this.numMigrate++;
          this.numTransfer++;
        }
        this.#hypHistory.set(h, frameId);
        this.#lastMatch.set(o, frameId);
        this.events.push({ frame: frameId, type: isSwitch ? 'SWITCH' : 'MATCH', oid: o, hid: h, distance: d });
        oMatched[i] = 1;
        hMatched[j] = 1;
        this.#pairedHyp.set(o, h);
        this.#pairedObj.set(h, o);
      }
    }

    // 3./4. Misses and false positives.
    for (let i = 0; i < no; i++) {
      if (!oMatched[i]) this.events.push({ frame: frameId, type: 'MISS', oid: oids[i]!, hid: undefined, distance: NaN });
    }
    for (let j = 0; j < nh; j++) {
      if (!hMatched[j]) this.events.push({ frame: frameId, type: 'FP', oid: undefined, hid: hids[j]!, distance: NaN });
    }
    for (const o of oids) this.#lastOccurrence.set(o, frameId);
    this.#lastUpdateFrame = frameId;
  }

  #countRaw(
    oids: readonly number[],
    hids: readonly number[],
    dists: ReadonlyArray<ArrayLike<number>>,
    frameId: number,
  ): void {
    const bump = (m: Map<number, { count: number; last: number }>, id: number): void => {
      const e = m.get(id);
      if (e === undefined) m.set(id, { count: 1, last: frameId });
      else if (e.last !== frameId) {
        e.count++;
        e.last = frameId;
      }
    };
    for (const o of oids) bump(this.objFrameCounts, o);
    for (const h of hids) bump(this.hypFrameCounts, h);
    if (oids.length === 0 || hids.length === 0) return;
    for (let i = 0; i < oids.length; i++) {
      for (let j = 0; j < hids.length; j++) {
        if (!Number.isFinite(dists[i]![j]!)) continue;
        let inner = this.pairCounts.get(oids[i]!);
        if (inner === undefined) this.pairCounts.set(oids[i]!, (inner = new Map()));
        inner.set(hids[j]!, (inner.get(hids[j]!) ?? 0) + 1);
      }
    }
  }
}

/**
 * MOT metrics. Names are camelCase versions of py-motmetrics' (`num_false_positives` → `numFalsePositives`);
 * the MOTChallenge short name is given for each.
 */
export interface MotMetrics {
  /** IDF1 = 2·IDTP / (num_objects + num_predictions). */
  idf1: number;
  /** IDP = IDTP / (IDTP + IDFP). */
  idp: number;
  /** IDR = IDTP / (IDTP + IDFN). */
  idr: number;
  /** Rcll = num_detections / num_objects. */
  recall: number;
  /** Prcn = num_detections / (num_detections + FP). */
  precision: number;
  /** GT: distinct ground-truth ids. */
  numUniqueObjects: number;
  /** MT: objects tracked in ≥ 80 % of their frames. */
  mostlyTracked: number;
  /** PT: objects tracked in [20 %, 80 %) of their frames. */
  partiallyTracked: number;
  /** ML: objects tracked in < 20 % of their frames. */
  mostlyLost: number;
  /** FP. */
  numFalsePositives: number;
  /** FN. */
  numMisses: number;
  /** IDs (identity switches). */
  numSwitches: number;
  /** FM (fragmentations). */
  numFragmentations: number;
  /** MOTA = 1 − (FN + IDs + FP) / num_objects. */
  mota: number;
  /** MOTP as py-motmetrics computes it: mean distance over matches (mean(1 − IoU) for IoU). Lower is better. */
  motp: number;
  /** IDt. */
  numTransfer: number;
  /** IDa. */
  numAscend: number;
  /** IDm. */
  numMigrate: number;
  numFrames: number;
  /** Matches that are not switches. */
  numMatches: number;
  /** Matches + switches. */
  numDetections: number;
  /** Ground-truth boxes (object occurrences). */
  numObjects: number;
  /** Hypothesis boxes. */
  numPredictions: number;
  idtp: number;
  idfp: number;
  idfn: number;
}

/** Computes all metrics from an accumulator. Pure (reads the accumulator only). */
export function computeMotMetrics(acc: MotAccumulator): MotMetrics {
  let numMatches = 0;
  let numSwitches = 0;
  let numFalsePositives = 0;
  let numMisses = 0;
  let distanceSum = 0;
  /** Per object: its event types in order (MATCH / SWITCH / MISS). */
  const perObject = new Map<number, MotEventType[]>();
  for (const e of acc.events) {
    switch (e.type) {
      case 'MATCH':
        numMatches++;
        distanceSum += e.distance;
        break;
      case 'SWITCH':
        numSwitches++;
        distanceSum += e.distance;
        break;
      case 'MISS':
        numMisses++;
        break;
      case 'FP':
        numFalsePositives++;
        break;
    }
    if (e.oid !== undefined) {
      let seq = perObject.get(e.oid);
      if (seq === undefined) perObject.set(e.oid, (seq = []));
      seq.push(e.type);
    }
  }
  const numDetections = numMatches + numSwitches;
  const numObjects = numDetections + numMisses;
  const numPredictions = numDetections + numFalsePositives;

  let mostlyTracked = 0;
  let partiallyTracked = 0;
  let mostlyLost = 0;
  let numFragmentations = 0;
  for (const seq of perObject.values()) {
    let tracked = 0;
    let first = -1;
    let last = -1;
    for (let k = 0; k < seq.length; k++) {
      if (seq[k] !== 'MISS') {
        tracked++;
        if (first < 0) first = k;
        last = k;
      }
    }
    const ratio = tracked / seq.length;
    if (ratio >= 0.8) mostlyTracked++;
    else if (ratio >= 0.2) partiallyTracked++;
    else mostlyLost++;
    for (let k = first + 1; first >= 0 && k <= last; k++) {
      if (seq[k] === 'MISS' && seq[k - 1] !== 'MISS') numFragmentations++;
    }
  }

  // Identity metrics: one-to-one object ↔ hypothesis assignment maximising co-occurrence (IDTP).
  const oids = [...acc.objFrameCounts.keys()].sort((a, b) => a - b);
  const hids = [...acc.hypFrameCounts.keys()].sort((a, b) => a - b);
  const hIndex = new Map(hids.map((h, k) => [h, k] as const));
  const gain: number[][] = oids.map(() => new Array<number>(hids.length).fill(0));
  oids.forEach((o, r) => {
    const inner = acc.pairCounts.get(o);
    if (inner) for (const [h, c] of inner) gain[r]![hIndex.get(h)!] = -c;
  });
  let matchedPairs = 0;
  for (const { row, col } of linearSumAssignment(gain)) matchedPairs -= gain[row]![col]!;
  let objOccurrences = 0;
  for (const { count } of acc.objFrameCounts.values()) objOccurrences += count;
  let hypOccurrences = 0;
  for (const { count } of acc.hypFrameCounts.values()) hypOccurrences += count;
  const idfn = objOccurrences - matchedPairs;
  const idfp = hypOccurrences - matchedPairs;
  const idtp = numObjects - idfn;

  return {
    idf1: (2 * idtp) / (numObjects + numPredictions),
    idp: idtp / (idtp + idfp),
    idr: idtp / (idtp + idfn),
    recall: numDetections / numObjects,
    precision: numDetections / (numFalsePositives + numDetections),
    numUniqueObjects: perObject.size,
    mostlyTracked,
    partiallyTracked,
    mostlyLost,
    numFalsePositives,
    numMisses,
    numSwitches,
    numFragmentations,
    mota: 1 - (numMisses + numSwitches + numFalsePositives) / numObjects,
    motp: distanceSum / numDetections,
    numTransfer: acc.numTransfer,
    numAscend: acc.numAscend,
    numMigrate: acc.numMigrate,
    numFrames: acc.numFrames,
    numMatches,
    numDetections,
    numObjects,
    numPredictions,
    idtp,
    idfp,
    idfn,
  };
}

/** Axis-aligned box as x (left), y (top), w, h. */
export interface XywhBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * IoU of two x,y,w,h boxes (continuous coordinates, no +1). Negative sizes count as empty; 0 when the boxes
 * do not intersect.
 */
export function boxIou(a: XywhBox, b: XywhBox): number {
  const iw = Math.max(Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x), 0);
  const ih = Math.max(Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y), 0);
  const inter = iw * ih;
  if (inter === 0) return 0;
  const union = Math.max(a.w, 0) * Math.max(a.h, 0) + Math.max(b.w, 0) * Math.max(b.h, 0) - inter;
  return inter / union;
}

/**
 * Distance matrix 1 − IoU (objects in rows, hypotheses in columns); entries with distance > maxDistance are NaN
 * (do not pair). Equivalent to py-motmetrics' `iou_matrix(objs, hyps, max_iou=maxDistance)`.
 */
export function iouDistanceMatrix(objs: readonly XywhBox[], hyps: readonly XywhBox[], maxDistance: number): number[][] {
  return objs.map((o) =>
    hyps.map((h) => {
      const d = 1 - boxIou(o, h);
      return d > maxDistance ? NaN : d;
    }),
  );
}

/** Options for {@link evaluateMot}. */
export interface EvaluateMotOptions {
  /** Minimum IoU for a ground-truth box and a hypothesis box to be matchable. Default 0.5. Valid: (0, 1]. */
  iouThreshold?: number;
  /**
   * Ground-truth rows with `conf` below this are dropped before matching (MOTChallenge "consider" flag; MOT16/17/20
   * mark ignored boxes and distractor classes with 0, and the reference evaluators drop them: py-motmetrics'
   * eval_motchallenge.py loads gt with min_confidence 1). Rows with a NaN `conf` (no conf column, parsed with
   * `parseMotFile(text, { missingConf: NaN })`) have no flag and are always kept; parseMotFile's default -1 for
   * them would be dropped by any value above -1. Default: undefined = keep every row, as `mm.io.loadtxt` does by
   * default (its min_confidence is -1). `camtrack eval` passes 1 (`--min-gt-conf`).
   */
  minGtConfidence?: number;
}

/** Ground-truth rows kept by `minGtConfidence` (see {@link EvaluateMotOptions.minGtConfidence}). */
export function consideredGtRows(gt: readonly MotRow[], minConf: number | undefined): readonly MotRow[] {
  // `!(conf < minConf)`: a NaN conf (no conf column) is kept.
  return minConf === undefined ? gt : gt.filter((r) => !(r.conf < minConf));
}

/**
 * Evaluates a tracker's output against ground truth like py-motmetrics'
 * `compare_to_groundtruth(gt, hyp, 'iou', distth=1 - iouThreshold)` followed by `metrics.create().compute`.
 * Every frame that appears in either input is evaluated (a frame missing from the hypothesis gives misses, one
 * missing from the ground truth gives false positives). Within a frame, rows keep their input order.
 */
export function evaluateMot(
  gt: readonly MotRow[],
  hyp: readonly MotRow[],
  options: EvaluateMotOptions = {},
): MotMetrics {
  const iouThreshold = options.iouThreshold ?? 0.5;
  if (!(iouThreshold > 0 && iouThreshold <= 1)) {
    throw new RangeError(
      `Expected number in (0, 1] for iouThreshold but received ${String(iouThreshold)} of type ${typeof iouThreshold}`,
    );
  }
  const gtFrames = byFrame(consideredGtRows(gt, options.minGtConfidence));
  const hypFrames = byFrame(hyp);
  const frames = [...new Set([...gtFrames.keys(), ...hypFrames.keys()])].sort((a, b) => a - b);
  const maxDistance = 1 - iouThreshold;
  const acc = new MotAccumulator();
  for (const f of frames) {
    const objs = gtFrames.get(f) ?? [];
    const hyps = hypFrames.get(f) ?? [];
    acc.update(
      objs.map((r) => r.id),
      hyps.map((r) => r.id),
      iouDistanceMatrix(objs, hyps, maxDistance),
      f,
    );
  }
  return computeMotMetrics(acc);
}

/** HOTA results: each value is the mean over the localisation thresholds α = 0.05, 0.10, …, 0.95. */
export interface HotaMetrics {
  /** HOTA = mean over α of sqrt(DetA_α · AssA_α). */
  hota: number;
  /** DetA = mean over α of TP / (TP + FN + FP). */
  detA: number;
  /** AssA = mean over α of the TP-weighted association IoU of the matched id pairs. */
  assA: number;
  /** LocA = mean over α of the mean IoU of the matches (1 for an α without matches, as TrackEval). */
  locA: number;
  /** The thresholds used, and the per-threshold values behind the means (same order). */
  alphas: number[];
  hotaPerAlpha: number[];
  detAPerAlpha: number[];
  assAPerAlpha: number[];
  locAPerAlpha: number[];
}

/** Options for {@link evaluateHota}. */
export interface EvaluateHotaOptions {
  /** Ground-truth rows with `conf` below this are dropped; NaN conf is kept. As {@link EvaluateMotOptions.minGtConfidence}. */
  minGtConfidence?: number;
}

/**
 * HOTA (Luiten et al., IJCV 2020) with IoU similarity, following the reference TrackEval computation that
 * py-motmetrics' HOTA reproduces: ids are first scored by a global alignment score (soft co-occurrence
 * IoU of the two id tracks); per frame, one assignment maximises alignment-weighted IoU; for each α the pairs
 * with IoU ≥ α count as TPs; association accuracy per matched (gt id, hyp id) pair is
 * matches / (gt id frames + hyp id frames − matches). Frames are those present in either input (after the
 * minGtConfidence filter). Pure function.
 */
export function evaluateHota(gt: readonly MotRow[], hyp: readonly MotRow[], options: EvaluateHotaOptions = {}): HotaMetrics {
  const gtKept = consideredGtRows(gt, options.minGtConfidence);
  const EPS = 2.220446049250313e-16;
  const alphas = Array.from({ length: 19 }, (_, k) => (k + 1) * 0.05);
  const gtIds = [...new Set(gtKept.map((r) => r.id))];
  const hypIds = [...new Set(hyp.map((r) => r.id))];
  const gIndex = new Map(gtIds.map((id, k) => [id, k] as const));
  const hIndex = new Map(hypIds.map((id, k) => [id, k] as const));
  const ng = gtIds.length;
  const nt = hypIds.length;
  const gtByFrame = byFrame(gtKept);
  const hypByFrame = byFrame(hyp);
  const frames = [...new Set([...gtByFrame.keys(), ...hypByFrame.keys()])].sort((a, b) => a - b);
  const sims = new Map<number, number[][]>();
  for (const f of frames) {
    const g = gtByFrame.get(f) ?? [];
    const h = hypByFrame.get(f) ?? [];
    sims.set(f, g.map((a) => h.map((b) => boxIou(a, b))));
  }

  // Global alignment score between every gt id and hyp id.
  const potential = new Float64Array(ng * nt);
  const gtCount = new Float64Array(ng);
  const hypCount = new Float64Array(nt);
  for (const f of frames) {
    const g = gtByFrame.get(f) ?? [];
    const h = hypByFrame.get(f) ?? [];
    for (const r of g) gtCount[gIndex.get(r.id)!]! += 1;
    for (const r of h) hypCount[hIndex.get(r.id)!]! += 1;
    if (g.length === 0 || h.length === 0) continue;
    const s = sims.get(f)!;
    const rowSum = s.map((row) => row.reduce((x, y) => x + y, 0));
    const colSum = h.map((_, j) => s.reduce((x, row) => x + row[j]!, 0));
    for (let i = 0; i < g.length; i++) {
      for (let j = 0; j < h.length; j++) {
        const denom = rowSum[i]! + colSum[j]! - s[i]![j]!;
        if (denom > EPS) potential[gIndex.get(g[i]!.id)! * nt + hIndex.get(h[j]!.id)!]! += s[i]![j]! / denom;
      }
    }
  }
  const align = new Float64Array(ng * nt);
  for (let a = 0; a < ng; a++) {
    for (let b = 0; b < nt; b++) {
      const p = potential[a * nt + b]!;
      align[a * nt + b] = p / Math.max(1, gtCount[a]! + hypCount[b]! - p);
    }
  }

  const tp = new Float64Array(alphas.length);
  const fn = new Float64Array(alphas.length);
  const fp = new Float64Array(alphas.length);
  const loc = new Float64Array(alphas.length);
  const matches = alphas.map(() => new Float64Array(ng * nt));
  for (const f of frames) {
    const g = gtByFrame.get(f) ?? [];
    const h = hypByFrame.get(f) ?? [];
    const s = sims.get(f)!;
    const pairs =
      g.length > 0 && h.length > 0
        ? linearSumAssignment(
            g.map((rg, i) => h.map((rh, j) => -align[gIndex.get(rg.id)! * nt + hIndex.get(rh.id)!]! * s[i]![j]!)),
          )
        : [];
    alphas.forEach((alpha, a) => {
      let n = 0;
      for (const { row, col } of pairs) {
        const sim = s[row]![col]!;
        if (sim < alpha - EPS) continue;
        n++;
        loc[a]! += sim;
        matches[a]![gIndex.get(g[row]!.id)! * nt + hIndex.get(h[col]!.id)!]! += 1;
      }
      tp[a]! += n;
      fn[a]! += g.length - n;
      fp[a]! += h.length - n;
    });
  }

  const detAPerAlpha: number[] = [];
  const assAPerAlpha: number[] = [];
  const hotaPerAlpha: number[] = [];
  const locPerAlpha: number[] = [];
  alphas.forEach((_, a) => {
    let assSum = 0;
    const mc = matches[a]!;
    for (let x = 0; x < ng; x++) {
      for (let y = 0; y < nt; y++) {
        const m = mc[x * nt + y]!;
        if (m > 0) assSum += (m * m) / Math.max(1, gtCount[x]! + hypCount[y]! - m);
      }
    }
    const assA = assSum / Math.max(1, tp[a]!);
    const detA = tp[a]! / Math.max(1, tp[a]! + fn[a]! + fp[a]!);
    assAPerAlpha.push(assA);
    detAPerAlpha.push(detA);
    hotaPerAlpha.push(Math.sqrt(detA * assA));
    // TrackEval's max(1e-10, LocA) / max(1e-10, TP): an α without matches has LocA 1, not 0.
    locPerAlpha.push(Math.max(1e-10, loc[a]!) / Math.max(1e-10, tp[a]!));
  });
  const mean = (v: number[]): number => v.reduce((x, y) => x + y, 0) / v.length;
  return {
    hota: mean(hotaPerAlpha),
    detA: mean(detAPerAlpha),
    assA: mean(assAPerAlpha),
    locA: mean(locPerAlpha),
    alphas,
    hotaPerAlpha,
    detAPerAlpha,
    assAPerAlpha,
    locAPerAlpha: locPerAlpha,
  };
}
