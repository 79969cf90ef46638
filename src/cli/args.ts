/**
 * Tiny argv parser: `--name value`, `--name=value`, repeatable options, boolean flags, positionals. The checked
 * readers (intOpt, numOpt) turn a bad value into an ERR_CAMTRACK_INVALID_ARGUMENT usage error (exit code 1).
 */
import { CamtrackError } from '../errors.js';

/** argv split into positionals, options (every value of a repeated one, in order) and flags. */
export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

export function parseArgs(argv: string[], booleanFlags: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positionals: [], options: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (booleanFlags.includes(name)) {
      out.flags.add(name);
      continue;
    }
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw usageError(`option --${name} needs a value`);
    const list = out.options.get(name) ?? [];
    list.push(value);
    out.options.set(name, list);
  }
  return out;
}

export function opt(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return v?.[v.length - 1];
}

/** A bad command-line value: printed by runCli with its code and hint, exit code 1. */
function usageError(message: string): CamtrackError {
  return new CamtrackError(message, 'ERR_CAMTRACK_INVALID_ARGUMENT', { stage: 'cli', hint: 'camtrack --help lists the commands and their options' });
}

/** An integer option within [min, max]; `def` when absent. */
export function intOpt(args: ParsedArgs, name: string, def: number, min: number, max: number): number {
  return checkedNumber(args, name, def, min, max, true);
}

/** A finite number option (e.g. seconds) within [min, max]; `def` when absent. */
export function numOpt(args: ParsedArgs, name: string, def: number, min: number, max: number): number {
  return checkedNumber(args, name, def, min, max, false);
}

function checkedNumber(args: ParsedArgs, name: string, def: number, min: number, max: number, integer: boolean): number {
  const v = opt(args, name);
  if (v === undefined) return def;
  const n = Number(v);
  // Number('') is 0: an empty value is not a number.
  if (v.trim() === '' || !(integer ? Number.isInteger(n) : Number.isFinite(n)) || n < min || n > max) {
    throw usageError(
      `Expected ${integer ? 'integer' : 'number'} between ${min} and ${max} for --${name} but received ${JSON.stringify(v)}`,
    );
  }
  return n;
}
