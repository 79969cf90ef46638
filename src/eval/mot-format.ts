/**
 * MOTChallenge text format: one box per line,
 * `frame, id, bb_left, bb_top, bb_width, bb_height, conf, x, y, z` (frames 1-based, boxes in pixels,
 * top-left corner plus size). Fields may be separated by commas and/or whitespace, as py-motmetrics accepts.
 * In ground truth `conf` is the "consider" flag; in detections it is the score; in tracker output it is
 * usually -1. Columns after `conf` are ignored when reading and written as -1.
 *
 * Pure functions; no I/O (callers read/write files), no shared state.
 */

/** One MOTChallenge row. All numbers are as written in the file (no 1-based → 0-based shift). */
export interface MotRow {
  /** Frame number (1-based in MOTChallenge files). */
  frame: number;
  /** Object / track id; -1 for detections. */
  id: number;
  /** Box left edge in pixels. */
  x: number;
  /** Box top edge in pixels. */
  y: number;
  /** Box width in pixels. */
  w: number;
  /** Box height in pixels. */
  h: number;
  /** Confidence / consider flag; -1 when the file has none (see {@link ParseMotOptions.missingConf}). */
  conf: number;
}

/** Rows grouped by frame number (file order kept within a frame). */
export function byFrame(rows: readonly MotRow[]): Map<number, MotRow[]> {
  const m = new Map<number, MotRow[]>();
  for (const r of rows) {
    let list = m.get(r.frame);
    if (list === undefined) m.set(r.frame, (list = []));
    list.push(r);
  }
  return m;
}

/** Options for {@link parseMotFile}. */
export interface ParseMotOptions {
  /**
   * `conf` of a row whose line has only six fields (no conf column). Default -1, MOTChallenge's "no value".
   * Give NaN (or another value no file holds) where a missing column must be told from a written conf: an absent
   * "consider" flag is not a 0, and an absent score is not a score of -1.
   */
  missingConf?: number;
}

/**
 * Parses MOTChallenge text. Blank lines and lines starting with `#` are skipped. A line needs at least six
 * numeric fields (frame, id, x, y, w, h); `conf` is `options.missingConf` (default -1) when absent.
 *
 * @throws SyntaxError naming the 1-based line number when a line has fewer than six fields or a field is not a
 *   number.
 */
export function parseMotFile(text: string, options: ParseMotOptions = {}): MotRow[] {
  const missingConf = options.missingConf ?? -1;
  const rows: MotRow[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/[\s,]+/).filter((f) => f !== '');
    if (fields.length < 6) {
      throw new SyntaxError(
        `Expected at least 6 fields (frame,id,x,y,w,h) on MOT line ${n + 1} but received ${fields.length}: "${line}"`,
      );
    }
    const nums = fields.slice(0, 7).map((f, k) => {
      const v = Number(f);
      if (!Number.isFinite(v)) {
        throw new SyntaxError(`Expected a number in field ${k + 1} of MOT line ${n + 1} but received "${f}"`);
      }
      return v;
    });
    rows.push({
      frame: nums[0]!,
      id: nums[1]!,
      x: nums[2]!,
      y: nums[3]!,
      w: nums[4]!,
      h: nums[5]!,
      conf: nums.length > 6 ? nums[6]! : missingConf,
    });
  }
  return rows;
}

/** Options for {@link formatMotRows}. */
export interface FormatMotOptions {
  /**
   * Decimal places for box coordinates and conf. Default: undefined = shortest exact representation
   * (`String(number)`, round-trips through {@link parseMotFile}). Valid: integer 0..20.
   */
  decimals?: number;
}

/**
 * Formats rows as MOTChallenge text: `frame,id,x,y,w,h,conf,-1,-1,-1`, one per line, each line ending in `\n`.
 * Rows are written in the order given.
 */
export function formatMotRows(rows: readonly MotRow[], options: FormatMotOptions = {}): string {
  const { decimals } = options;
  if (decimals !== undefined && (!Number.isInteger(decimals) || decimals < 0 || decimals > 20)) {
    throw new RangeError(
      `Expected integer between 0 and 20 for decimals but received ${String(decimals)} of type ${typeof decimals}`,
    );
  }
  const num = (v: number): string => (decimals === undefined ? String(v) : v.toFixed(decimals));
  let out = '';
  for (const r of rows) {
    out += `${r.frame},${r.id},${num(r.x)},${num(r.y)},${num(r.w)},${num(r.h)},${num(r.conf)},-1,-1,-1\n`;
  }
  return out;
}
