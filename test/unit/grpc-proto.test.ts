// The proto's messages that mirror wire messages have exactly the wire schema's fields (same snake_case names),
// so a gRPC client and a JSON client read the same names (docs/grpc.md).
import type { TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { loadPackageDefinition } from '../../src/server/grpc/proto.js';
import {
  WireAnalyticsCountsSchema,
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
    expect(Object.keys(def)).toEqual(expect.arrayContaining(['grpc.health.v1.Health', 'camtrack.v1.VisionCoreService', 'camtrack.v1.AnalyticsService']));
  });

  // AnalyticsService (proto/camtrack/v1/analytics.proto) mirrors the wire's analytics_counts message, nested too.
  const props = (s: TSchema): Record<string, TSchema> => (s as { properties: Record<string, TSchema> }).properties;
  /** The value schema of a Type.Record(Type.String(), V). */
  const recordValue = (s: TSchema): TSchema => Object.values((s as { patternProperties: Record<string, TSchema> }).patternProperties)[0]!;
  const counts = props(WireAnalyticsCountsSchema);
  const line = recordValue(counts.lines!);
  const analyticsPairs: [string, TSchema][] = [
    ['AnalyticsCounts', WireAnalyticsCountsSchema],
    ['LineCounts', line],
    ['ClassCounts', (props(line).per_class as unknown as { items: TSchema }).items],
    ['ZoneCounts', recordValue(counts.zones!)],
  ];
  for (const [msg, schema] of analyticsPairs) {
    it(`${msg} has the fields of its wire schema`, () => {
      expect(fields(msg).map((f) => f.name).sort()).toEqual(wireKeys(schema));
    });
  }

  it('AnalyticsCounts: maps of lines and zones by id, nullable frame_id/ts_ms as proto3 optional', () => {
    type Msg = { name: string; field: FieldDesc[]; options?: { mapEntry?: boolean } | null };
    const t = (def['camtrack.v1.AnalyticsCounts'] as { type: Msg & { nestedType: Msg[]; oneofDecl: { name: string }[] } }).type;
    const c = Object.fromEntries(t.field.map((f) => [f.name, f as FieldDesc & { oneofIndex: number }]));
    for (const [name, value] of [['lines', 'LineCounts'], ['zones', 'ZoneCounts']] as const) {
      expect(c[name]).toMatchObject({ label: 'LABEL_REPEATED', type: 'TYPE_MESSAGE' });
      const entry = t.nestedType.find((n) => n.name === c[name]!.typeName)!;
      expect(entry.options?.mapEntry).toBe(true);
      expect(entry.field.map((f) => [f.name, f.typeName || f.type])).toEqual([['key', 'TYPE_STRING'], ['value', value]]);
    }
    // proto3 `optional`: each in its own synthetic oneof `_<name>`, so an unset field stays absent (wire null).
    expect(c.frame_id!.type).toBe('TYPE_UINT64');
    expect(c.ts_ms!.type).toBe('TYPE_DOUBLE');
    expect(t.oneofDecl[c.frame_id!.oneofIndex]!.name).toBe('_frame_id');
    expect(t.oneofDecl[c.ts_ms!.oneofIndex]!.name).toBe('_ts_ms');
    expect(fields('ClassCounts').find((f) => f.name === 'in')!.type).toBe('TYPE_UINT64');
  });
});
