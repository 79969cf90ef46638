// The proto's messages that mirror wire messages have exactly the wire schema's fields (same snake_case names),
// so a gRPC client and a JSON client read the same names (docs/grpc.md).
import type { TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { loadPackageDefinition } from '../../src/server/grpc/proto.js';
import {
  WireBoxSchema,
  WireDetectionSchema,
  WireErrorSchema,
  WireResultSchema,
  WireTrackEventSchema,
  WireTrackSchema,
} from '../../src/wire/schema.js';

interface FieldDesc {
  name: string;
  type: string;
  typeName: string;
  label: string;
}
const def = loadPackageDefinition();
const fields = (name: string): FieldDesc[] =>
  ((def[`camtrack.v1.${name}`] as { type: { field: FieldDesc[] } }).type.field);
const wireKeys = (s: TSchema): string[] => Object.keys((s as { properties: Record<string, unknown> }).properties).sort();

describe('camtrack.v1 proto mirrors the wire schema', () => {
  const pairs: [string, TSchema][] = [
    ['Result', WireResultSchema],
    ['Detection', WireDetectionSchema],
    ['Track', WireTrackSchema],
    ['TrackEvent', WireTrackEventSchema],
    ['Box', WireBoxSchema],
    ['Error', WireErrorSchema],
  ];
  for (const [msg, schema] of pairs) {
    it(`${msg} has the fields of its wire schema`, () => {
      expect(fields(msg).map((f) => f.name).sort()).toEqual(wireKeys(schema));
    });
  }

  it('nested messages and arrays match the wire types', () => {
    const result = Object.fromEntries(fields('Result').map((f) => [f.name, f]));
    expect(result.detections).toMatchObject({ label: 'LABEL_REPEATED', typeName: 'Detection' });
    expect(result.tracks).toMatchObject({ label: 'LABEL_REPEATED', typeName: 'Track' });
    expect(result.track_events).toMatchObject({ label: 'LABEL_REPEATED', typeName: 'TrackEvent' });
    expect(result.frame_id!.type).toBe('TYPE_UINT64');
    expect(result.inferred!.type).toBe('TYPE_BOOL');
  });

  it('loads the health service of grpc.health.v1', () => {
    expect(Object.keys(def)).toEqual(expect.arrayContaining(['grpc.health.v1.Health', 'camtrack.v1.VisionCoreService']));
  });
});
