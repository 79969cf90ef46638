/**
 * A writer of text lines (wire JSON lines) to a file descriptor that survives a failing destination: `camtrack run`
 * writes its results to stdout and its events to stderr, which a user often redirects to a file — on a disk that
 * can fill up. Node's own process.stdout throws an unhandled 'error' (the process dies) on the first ENOSPC; this
 * writer instead counts the lines it could not write, warns once per failure burst (ERR_CAMTRACK_OUTPUT, with the
 * errno) and once when writing works again, and never leaves half a line behind:
 *
 * - a regular file or a character device (/dev/full): `fs.writeSync`; a line that fails part-way is finished
 *   first when writing works again (Node has no lseek to take it back while the fd's offset is past it), or cut off
 *   with `ftruncate` at close() if space never comes back, so the file holds whole lines only; every other line is
 *   tried as usual (lost and counted while the disk is full, written again once it has space);
 * - anything else (a pipe, a socket, a terminal): the Node stream, whose 'error' (EPIPE: the reader went away) is
 *   caught; from then on lines are counted as lost (a broken pipe does not come back). Each line is counted when its
 *   write completes (the write's callback), so the line that met the error is counted lost, not written.
 *
 * Nothing is buffered here beyond what the kernel or the Node stream holds, so a full disk never grows memory.
 */
import { fstatSync, ftruncateSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { isatty } from 'node:tty';

import { CamtrackError } from '../errors.js';

/** What a {@link LineWriter} did (monotonic). */
export interface LineWriterStats {
  /** Lines written whole. */
  written: number;
  /** Lines lost to write errors. */
  lost: number;
  /** errno code of the most recent failure (`ENOSPC`, `EPIPE`, …), or undefined. */
  lastErrorCode: string | undefined;
  /** True while the latest line failed (a burst is open). */
  failing: boolean;
}

export class LineWriter {
  readonly #fd: number;
  readonly #name: string;
  readonly #stream: Writable | undefined;
  readonly #regular: boolean;
  readonly #onWarning: (err: CamtrackError) => void;
  readonly #onBroken: (() => void) | undefined;
  #broken = false;
  /** The unwritten rest of a line that failed part-way, and how much of it reached the file. */
  #pending: Buffer | undefined;
  #pendingWritten = 0;
  #burstLost = 0;
  #burstStart = 0;
  readonly #st: LineWriterStats = { written: 0, lost: 0, lastErrorCode: undefined, failing: false };

  /**
   * `fd`: where to write (1 for stdout); `stream`: the Node stream of that fd, used when it is not a file;
   * `name`: for messages (`stdout`); `onWarning`: each failure burst's start and end.
   */
  /**
   * `onBroken`: called once when the stream path breaks for good (EPIPE: the reader went away), so that a command
   * can stop as a Unix tool does on SIGPIPE (`camtrack run | head`); a full disk never calls it (space may come back).
   */
  constructor(fd: number, stream: Writable | undefined, name: string, onWarning: (err: CamtrackError) => void, onBroken?: () => void) {
    this.#onBroken = onBroken;
    this.#fd = fd;
    this.#name = name;
    this.#onWarning = onWarning;
    let sync = false;
    let regular = false;
    try {
      const st = fstatSync(fd);
      regular = st.isFile();
      // /dev/full, /dev/null: sync; a terminal stays with Node's stream (libuv may make its fd non-blocking).
      sync = regular || (st.isCharacterDevice() && !isatty(fd));
    } catch {
      // A closed fd: the stream path reports it.
    }
    this.#regular = regular;
    this.#stream = sync ? undefined : stream;
    // Counted in each write's callback; the 'error' event only must not go unhandled (it would end the process).
    this.#stream?.on('error', () => {
      this.#broken = true;
    });
  }

  /**
   * Writes one line (a newline is added). Returns false when it was lost (counted). Never throws. On the stream
   * path the outcome is counted when the write completes (its callback), so true there means "handed over".
   */
  write(line: string): boolean {
    if (this.#broken) {
      this.#lose();
      return false;
    }
    const data = Buffer.from(line + '\n');
    if (this.#stream) {
      this.#stream.write(data, (err?: NodeJS.ErrnoException | null) => {
        if (!err) return this.#ok();
        // Writes after the first failure fail as ERR_STREAM_DESTROYED: the first error's code (EPIPE) is kept.
        if (this.#broken && err.code === 'ERR_STREAM_DESTROYED') return this.#lose();
        this.#broken = true;
        this.#fail(err);
        this.#onBroken?.();
      });
      return true;
    }
    if (this.#pending && !this.#flushPending()) {
      this.#lose();
      return false;
    }
    const done = this.#writeSome(data, 0);
    if (done < data.length) {
      if (done > 0) {
        // Half a line is in the file: its rest goes first when writing works again (or it is cut off at close()).
        this.#pending = data.subarray(done);
        this.#pendingWritten = done;
      }
      this.#lose();
      return false;
    }
    this.#ok();
    return true;
  }

  /**
   * At the end: a line still half-written (the disk never got space back) is cut off again (regular files), so the
   * file holds whole lines only; it was counted as lost when it failed.
   */
  close(): void {
    if (!this.#pending) return;
    if (this.#regular) {
      try {
        ftruncateSync(this.#fd, fstatSync(this.#fd).size - this.#pendingWritten);
      } catch {
        // Nothing more can be done.
      }
    }
    this.#pending = undefined;
  }

  /** Writes what it can of `data` from `offset`; returns the end reached (a failure is recorded). */
  #writeSome(data: Buffer, offset: number): number {
    let done = offset;
    try {
      while (done < data.length) done += writeSync(this.#fd, data, done, data.length - done);
    } catch (err) {
      this.#st.lastErrorCode = (err as NodeJS.ErrnoException).code ?? 'EIO';
    }
    return done;
  }

  /** Completes a half-written line; true when it is whole now (it was counted lost then; now it is written). */
  #flushPending(): boolean {
    const pending = this.#pending!;
    const done = this.#writeSome(pending, 0);
    if (done < pending.length) {
      this.#pending = pending.subarray(done);
      this.#pendingWritten += done;
      return false;
    }
    this.#pending = undefined;
    this.#st.lost--;
    this.#burstLost--;
    this.#st.written++;
    return true;
  }

  stats(): LineWriterStats {
    return { ...this.#st };
  }

  #ok(): void {
    this.#st.written++;
    if (!this.#st.failing) return;
    this.#st.failing = false;
    const seconds = ((performance.now() - this.#burstStart) / 1000).toFixed(1);
    this.#onWarning(
      new CamtrackError(`writing to ${this.#name} works again after ${this.#burstLost} lines were lost in ${seconds} s (${this.#st.lastErrorCode})`, 'ERR_CAMTRACK_OUTPUT', {
        stage: 'output',
        hint: `the lost lines are counted in the summary at the end; free space where ${this.#name} is written`,
      }),
    );
    this.#burstLost = 0;
  }

  #fail(err: NodeJS.ErrnoException): void {
    this.#st.lastErrorCode = err.code ?? 'EIO';
    this.#lose();
  }

  #lose(): void {
    this.#st.lost++;
    this.#burstLost++;
    if (this.#st.failing) return;
    this.#st.failing = true;
    this.#burstStart = performance.now();
    const code = this.#st.lastErrorCode;
    this.#onWarning(
      new CamtrackError(`cannot write to ${this.#name} (${code}): results are lost and counted until writing works again`, 'ERR_CAMTRACK_OUTPUT', {
        stage: 'output',
        hint:
          code === 'ENOSPC' || code === 'EDQUOT'
            ? `the disk where ${this.#name} is written is full: free space (the pipeline keeps running and resumes writing)`
            : code === 'EPIPE'
              ? `the reader of ${this.#name} went away; results are counted as lost until the end`
              : `check where ${this.#name} is written`,
      }),
    );
  }
}
