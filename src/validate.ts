/**
 * Field checkers of the option validators (src/config.ts, src/tracker.ts). Each takes the value, the path of the
 * field for the error and, where the field is optional, its default; a bad value throws ConfigError
 * `<path>: Expected <what is accepted> but received <value> of type <type>`. Quoted values have the secrets of
 * their URLs redacted (describeValue), since `camtrack run` prints these messages.
 */
import { ConfigError, describeValue, redactSecretsIn } from './errors.js';

export function fail(path: string, expected: string, value: unknown): never {
  throw new ConfigError(path, `Expected ${expected} but received ${describeValue(value)}`);
}
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
export function checkKeys(obj: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      // A YAML slip can turn a URL into a key (`- rtsp://u:p@cam/1:`), so the key is quoted redacted.
      const shown = redactSecretsIn(k);
      throw new ConfigError(
        path ? `${path}.${shown}` : shown,
        `Unknown option ${JSON.stringify(shown)}; accepted: ${allowed.join(', ')}`,
      );
    }
  }
}
/** An optional section of options: absent (or null) reads as {}; otherwise an object with only `allowed` keys. */
export function section(v: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
  const obj = v ?? {};
  if (!isObject(obj)) fail(path, 'object', obj);
  checkKeys(obj, path, allowed);
  return obj;
}
export function num(v: unknown, path: string, def: number, min: number, max: number, integer = false): number {
  if (v === undefined) return def;
  const kind = integer ? 'integer' : 'number';
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    fail(path, `${kind} between ${min} and ${max}`, v);
  }
  return v;
}
export function bool(v: unknown, path: string, def: boolean): boolean {
  if (v === undefined) return def;
  if (typeof v !== 'boolean') fail(path, 'boolean', v);
  return v;
}
export function oneOf<T extends string>(v: unknown, path: string, def: T, allowed: readonly T[]): T {
  if (v === undefined) return def;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(path, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, v);
  }
  return v as T;
}
export function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(path, 'non-empty string', v);
  return v;
}
/** An optional array of strings (undefined when absent). */
export function strings(v: unknown, path: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(path, 'array of strings', v);
  return v as string[];
}
export function triple(v: unknown, path: string): [number, number, number] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    fail(path, 'array of 3 finite numbers', v);
  }
  return v as [number, number, number];
}
