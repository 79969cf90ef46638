/**
 * The two helpers of the option validators (src/config/index.ts, src/tracker.ts), which check values against the
 * TypeBox schema of src/config/schema.ts: a bad value throws ConfigError
 * `<path>: Expected <what is accepted> but received <value> of type <type>`. Quoted values have the secrets of
 * their URLs redacted (describeValue), since `camtrack run` prints these messages.
 */
import { ConfigError, describeValue } from './errors.js';

export function fail(path: string, expected: string, value: unknown): never {
  throw new ConfigError(path, `Expected ${expected} but received ${describeValue(value)}`);
}
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
