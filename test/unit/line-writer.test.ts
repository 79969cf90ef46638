/**
 * src/sinks/lines.ts on real file descriptors (the disk-full cases with `camtrack run` are in
 * test/e2e/faults-disk.test.ts): a regular file (whole lines, counted), /dev/full (every line lost and counted, one
 * warning). A pipe whose reader went away (EPIPE) is tested with `camtrack run | true` in faults-disk.test.ts.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import type { CamtrackError } from '../../dist/errors.js';
import { LineWriter } from '../../dist/sinks/lines.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const tmp = lazyTempDir('camtrack-line-writer-');

describe('LineWriter', () => {
  it('writes whole lines to a regular file and counts them', () => {
    const file = path.join(tmp(), 'out.jsonl');
    const fd = openSync(file, 'w');
    const warnings: CamtrackError[] = [];
    const w = new LineWriter(fd, undefined, 'out', (e) => warnings.push(e));
    for (let i = 0; i < 100; i++) expect(w.write(JSON.stringify({ i }))).toBe(true);
    w.close();
    closeSync(fd);
    expect(readFileSync(file, 'utf8').split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([...Array(100).keys()]);
    expect(w.stats()).toEqual({ written: 100, lost: 0, lastErrorCode: undefined, failing: false });
    expect(warnings).toEqual([]);
  });

  it('EXPECTED FAILURE - /dev/full: every line lost and counted, one ERR_CAMTRACK_OUTPUT warning with the disk-full hint, never a throw', () => {
    const fd = openSync('/dev/full', 'w');
    const warnings: CamtrackError[] = [];
    const w = new LineWriter(fd, undefined, 'stdout', (e) => warnings.push(e));
    for (let i = 0; i < 50; i++) expect(w.write('{"x":1}')).toBe(false);
    w.close();
    closeSync(fd);
    expect(w.stats()).toEqual({ written: 0, lost: 50, lastErrorCode: 'ENOSPC', failing: true });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.code).toBe('ERR_CAMTRACK_OUTPUT');
    expect(warnings[0]!.hint).toMatch(/full/);
  });

});
