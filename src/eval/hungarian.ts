/**
 * Rectangular linear sum assignment (Hungarian / Kuhn–Munkres with potentials, shortest augmenting paths,
 * O(r² c) for an r × c matrix with r ≤ c).
 *
 * Forbidden pairs are non-finite costs (NaN or ±Infinity). The result is a matching of MAXIMUM CARDINALITY
 * among the allowed pairs and, among those, of minimum total cost: forbidden entries are replaced by a constant
 * so large that using one is always worse than any assignment that avoids it, then pairs that landed on a
 * forbidden entry are dropped. This is how py-motmetrics (`motmetrics.lap`) makes scipy's solver accept
 * "do-not-pair" entries, so per-frame CLEAR-MOT matching here agrees with it.
 *
 * Pure function; no shared state; safe to call from anywhere. Allocates O(r + c) scratch per call (evaluation
 * code, not the hot path).
 */

/** One assigned pair: `row` index into the cost matrix's rows, `col` into its columns. */
export interface Assignment {
  row: number;
  col: number;
}

/**
 * Solves min-cost assignment on `cost` (array of rows, all of the same length; may be empty or rectangular).
 * Returns the assigned pairs sorted by row. Pairs whose cost is not finite are never returned.
 *
 * @throws RangeError when the rows have different lengths.
 */
export function linearSumAssignment(cost: ReadonlyArray<ArrayLike<number>>): Assignment[] {
  const nRows = cost.length;
  if (nRows === 0) return [];
  const nCols = cost[0]!.length;
  for (let i = 1; i < nRows; i++) {
    if (cost[i]!.length !== nCols) {
      throw new RangeError(
        `Expected rows of equal length for cost but received row ${i} of length ${cost[i]!.length} (row 0 has ${nCols})`,
      );
    }
  }
  if (nCols === 0) return [];

  // Replace forbidden entries with a cost larger than any all-allowed assignment could reach:
  // with r = min(rows, cols) pairs and |allowed| ≤ c, one forbidden pair costs more than r allowed ones.
  let maxAbs = 0;
  let anyValid = false;
  for (let i = 0; i < nRows; i++) {
    const row = cost[i]!;
    for (let j = 0; j < nCols; j++) {
      const v = row[j]!;
      if (Number.isFinite(v)) {
        anyValid = true;
        if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
      }
    }
  }
  if (!anyValid) return [];
  const r = Math.min(nRows, nCols);
  const forbidden = 2 * r * (maxAbs + 1) + 1;

  // Work on an n × m matrix with n ≤ m (transpose when there are more rows than columns).
  const transpose = nRows > nCols;
  const n = transpose ? nCols : nRows;
  const m = transpose ? nRows : nCols;
  const a = (i: number, j: number): number => {
    const v = transpose ? cost[j]![i]! : cost[i]![j]!;
    return Number.isFinite(v) ? v : forbidden;
  };

  // 1-based potentials formulation: u (rows), v (cols), p[j] = row matched to column j, way[j] = previous column.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = a(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          const pj = p[j]!;
          u[pj] = u[pj]! + delta;
          v[j] = v[j]! - delta;
        } else {
          minv[j] = minv[j]! - delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }

  const out: Assignment[] = [];
  for (let j = 1; j <= m; j++) {
    const i = p[j]!;
    if (i === 0) continue;
    const row = transpose ? j - 1 : i - 1;
    const col = transpose ? i - 1 : j - 1;
    if (Number.isFinite(cost[row]![col]!)) out.push({ row, col });
  }
  out.sort((x, y) => x.row - y.row);
  return out;
}
