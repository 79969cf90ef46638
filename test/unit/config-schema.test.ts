/**
 * configJsonSchema() (`camtrack config schema`): the one config schema as a standalone JSON Schema (draft-07) that
 * a standard validator (ajv, strict mode) compiles, that accepts the README's example config of `camtrack run` and
 * rejects what normaliseConfig() rejects. Pure TypeScript: imported from src, no addon needed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

import { configJsonSchema, normaliseConfig } from '../../src/config.js';
import { repoRoot } from '../helpers/assets.js';

/** The README's example config file of `camtrack run` (the YAML block that starts with `# cams.yaml`). */
function readmeExample(): Record<string, unknown> {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const block = /```yaml\n(# cams\.yaml[^\n]*\n[\s\S]*?)```/.exec(readme);
  expect(block, 'README.md has the example cams.yaml').not.toBeNull();
  return YAML.parse(block![1]!) as Record<string, unknown>;
}

describe('configJsonSchema()', () => {
  const schema = configJsonSchema();
  const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);

  it('is a draft-07 document with the defaults, ranges and docs of the fields', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const maxWaitMs = (schema as { properties: { batching: { properties: Record<string, unknown> } } }).properties.batching.properties.maxWaitMs;
    expect(maxWaitMs).toMatchObject({ type: 'integer', minimum: 0, maximum: 10000, default: 10 });
    expect(maxWaitMs).toHaveProperty('description');
    expect(JSON.stringify(schema)).not.toContain('"expected"'); // camtrack's own wording key is left out
  });

  it("validates the README's example config, which normaliseConfig() accepts too", () => {
    const example = readmeExample();
    expect(example.streams).toHaveLength(2);
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    expect(normaliseConfig(example).streams.map((s) => s.id)).toEqual(['lobby', 'door']);
  });

  it.each([
    ['a wrong type', { batching: { maxWaitMs: '10' } }, '/batching/maxWaitMs'],
    ['a value out of range', { streams: [{ id: 'a', url: 'a.mp4', openTimeoutMs: 99 }] }, '/streams/0/openTimeoutMs'],
    ['an unknown option', { batching: { maxWait: 5 } }, '/batching'],
    ['a stream without url', { streams: [{ id: 'a' }] }, '/streams/0'],
    ['a bad live', { streams: [{ id: 'a', url: 'a.mp4', live: 'yes' }] }, '/streams/0/live'],
  ])('EXPECTED FAILURE - rejects %s, as normaliseConfig() does', (_what, extra, instancePath) => {
    const config = { ...readmeExample(), ...extra };
    expect(validate(config)).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath)).toContain(instancePath);
    expect(() => normaliseConfig(config)).toThrow(/Expected|Unknown option/);
  });
});
