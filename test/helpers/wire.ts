/**
 * Checks of wire messages (src/wire) as an external client would make them: ajv compiles the JSON Schemas from
 * their JSON text (what a client gets), not the TypeBox objects.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { expect } from 'vitest';

import {
  WireAnalyticsCountsSchema,
  WireAnalyticsEventMessageSchema,
  WireEventSchema,
  WireMetricsMessageSchema,
  WireResultSchema,
} from '../../src/wire/index.js';

const ajv = new Ajv({ allErrors: true });
const compile = (schema: object): ValidateFunction => ajv.compile(JSON.parse(JSON.stringify(schema)) as object);

export const validateWireResult = compile(WireResultSchema);
export const validateWireEvent = compile(WireEventSchema);
export const validateWireMetrics = compile(WireMetricsMessageSchema);
export const validateWireAnalyticsCounts = compile(WireAnalyticsCountsSchema);
export const validateWireAnalyticsEvent = compile(WireAnalyticsEventMessageSchema);

/** Fails the test with ajv's messages (and the message itself) unless `validate` accepts `message`. */
export function expectValid(validate: ValidateFunction, message: unknown): void {
  const ok = validate(message);
  expect(ok, `${ajv.errorsText(validate.errors)}\n${JSON.stringify(message)}`).toBe(true);
}

/** Every object key anywhere in `value` that is not snake_case (lower-case words joined by '_'), with its path. */
export function nonSnakeKeys(value: unknown, at = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => nonSnakeKeys(v, `${at}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(k) ? [] : [`${at}.${k}`]),
    ...nonSnakeKeys(v, `${at}.${k}`),
  ]);
}
