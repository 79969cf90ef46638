/**
 * Command-line vocabulary shared by the commands (parsing itself is commander's, see main.ts): the usage error every
 * bad option or argument becomes (ERR_CAMTRACK_INVALID_ARGUMENT, exit code 2), and options whose value is checked
 * against a range while commander parses, so a bad value stops the command before it starts anything.
 */
import { Option } from 'commander';

import { CamtrackError, redactSecretsIn } from '../errors.js';

/** A bad command line (unknown option, missing or bad value, …): printed by runCli with its code and hint, exit code 2. */
export class UsageError extends CamtrackError {
  constructor(message: string) {
    super(message, 'ERR_CAMTRACK_INVALID_ARGUMENT', { stage: 'cli', hint: 'camtrack <command> --help lists its options' });
    this.name = 'UsageError';
  }
}

/** An integer option within [min, max] (`def` when absent, if given). */
export function intOption(flags: string, description: string, min: number, max: number, def?: number): Option {
  return checkedOption(flags, description, min, max, def, true);
}

/** A finite number option (e.g. seconds) within [min, max] (`def` when absent, if given). */
export function numOption(flags: string, description: string, min: number, max: number, def?: number): Option {
  return checkedOption(flags, description, min, max, def, false);
}

function checkedOption(flags: string, description: string, min: number, max: number, def: number | undefined, integer: boolean): Option {
  const option = new Option(flags, description).argParser((v: string) => {
    const n = Number(v);
    // Number('') is 0: an empty value is not a number.
    if (v.trim() === '' || !(integer ? Number.isInteger(n) : Number.isFinite(n)) || n < min || n > max) {
      const range = Number.isFinite(min) || Number.isFinite(max) ? ` between ${min} and ${max}` : '';
      throw new UsageError(`Expected ${integer ? 'integer' : 'number'}${range} for ${option.long} but received ${JSON.stringify(v)}`);
    }
    return n;
  });
  return def === undefined ? option : option.default(def);
}

/** A repeatable option: every value, in order (`--source a --source b` → ['a', 'b']). */
export function listOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser((v: string, previous: string[] | undefined) => [...(previous ?? []), v]);
}

/**
 * `--redis <url>`: a redis:// or rediss:// URL (a UsageError otherwise, the value shown with its password redacted).
 * The password is never printed: not here, not in `--help`, not in errors.
 */
export function redisOption(description: string): Option {
  const option = new Option(
    '--redis <url>',
    `${description} (redis://[[user]:password@]host[:port][/db], rediss:// for TLS; docs/redis.md)`,
  ).argParser((v: string) => {
    if (!/^rediss?:\/\/./i.test(v)) {
      throw new UsageError(`Expected redis:// or rediss:// URL for --redis but received ${JSON.stringify(redactSecretsIn(v))}`);
    }
    return v;
  });
  return option;
}
