/**
 * Analytics in the pipeline, end to end on walking.mp4 (shared assets: pedestrians seen from above, 1280×720, 25 fps,
 * 341 frames) with yolov8n_int8.onnx and ByteTrack: a counting line and a zone configured in the stream options,
 * run natively after the tracker; results carry `analytics`, `stream.on('analytics')` gives the events, and the wire
 * result carries them in snake_case (schema-valid). A second run, through `camtrack run --config`, writes the same
 * analytics frame by frame; the counts equal a hand count. `stream.configure()` changes the section live.
 *
 * The hand count (how it was made): the segment (680, 400) → (960, 400) and the zone [720..960] × [250..400] were
 * chosen after printing every track's bottom-centre trajectory with a script (this pipeline, a full-width line at
 * y = 400) and looking at frames extracted with ffmpeg (`-vf fps=2,crop=480:240:560:280,drawbox=…,tile=4x7`: the
 * segment drawn in red every 0.5 s). In those frames five people cross the segment: a woman with a bag walking up
 * (0–0.6 s), a man with a shoulder bag walking up (3–4.5 s), a person with a backpack walking up (5.5–6.5 s), a man in
 * a dark coat on the right walking up (6–7 s), and a man in dark clothes walking down (8–9 s): 4 in (walking up: onto
 * the left of start→end as seen on the screen) and 1 out. Two more people cross y = 400 near x = 630–645 (11 s,
 * 7–8 s) and are left outside the segment by a margin of 35 px, so detector jitter cannot move them in; one of them
 * (walking down at x ≈ 645) starts and ends within the segment's limits but crosses y = 400 beside it: not counted. The zone is
 * entered by four of them (the three walking up whose feet stay in x 720..960 — the backpack walker stays at
 * x ≈ 700 — and the man walking down, who comes from above the zone), and left by all four before the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect, it } from 'vitest';

import { ConfigError, Pipeline, toWireResult, type AnalyticsEvent, type FrameResult } from '../../dist/index.js';
import { assetPath, describeWithAssets, repoRoot } from '../helpers/assets.js';
import { expectValid, nonSnakeKeys, validateWireResult } from '../helpers/wire.js';

const MODEL = 'models/yolov8n_int8.onnx';
const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
/** Results after configure() that may still have been made with the previous options (already postprocessed). */
const GRACE = 10;
const CLIP = 'videos/walking.mp4';
const ANALYTICS = {
  lines: [{ id: 'crossing', start: [680, 400] as [number, number], end: [960, 400] as [number, number] }],
  zones: [{ id: 'plaza', polygon: [[720, 250], [960, 250], [960, 400], [720, 400]] as [number, number][] }],
  speed: {},
};

/** The same stream through `camtrack run --config` (a JSON config file): its JSON lines' result messages. */
function runCli(): { type: string; analytics: WireAnalytics | null }[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-analytics-'));
  try {
    const cfg = path.join(dir, 'walk.json');
    writeFileSync(cfg, JSON.stringify({ model: assetPath(MODEL), tracker: { type: 'bytetrack' }, streams: [{ id: 'walk', url: assetPath(CLIP), analytics: ANALYTICS }] }));
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'camtrack.js'), 'run', '--config', cfg], {
      encoding: 'utf8',
      timeout: 240_000,
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, CAMTRACK_CACHE_DIR: path.join(dir, 'cache') },
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((m) => m.type === 'result');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
type WireAnalytics = NonNullable<ReturnType<typeof toWireResult>['analytics']>;

async function run(): Promise<{ results: FrameResult[]; events: AnalyticsEvent[] }> {
  const pipeline = await Pipeline.create({ model: { path: assetPath(MODEL) }, tracker: { type: 'bytetrack' } });
  try {
    const stream = pipeline.addStream({ id: 'walk', url: assetPath(CLIP), resultQueueSize: 10_000, analytics: ANALYTICS });
    const events: AnalyticsEvent[] = [];
    stream.on('analytics', (e: AnalyticsEvent) => events.push(e));
    const results: FrameResult[] = [];
    for await (const r of stream.results()) results.push(r);
    return { results, events };
  } finally {
    await pipeline.close();
  }
}

describeWithAssets('analytics on walking.mp4 (pipeline, yolov8n, ByteTrack)', [MODEL, FAST_MODEL, CLIP], () => {
  it('stream.configure() adds, keeps (unchanged section), replaces and removes the analytics of a running stream', async () => {
    const pipeline = await Pipeline.create({ model: { path: assetPath(FAST_MODEL) } });
    try {
      // A small lossless queue keeps the file's decoding close to this loop, so the stream still runs at each change.
      const stream = pipeline.addStream({ id: 'walk', url: assetPath(CLIP), resultQueueSize: 4 });
      let bad: unknown;
      const full = { lines: [{ id: 'full', start: [0, 400] as [number, number], end: [1280, 400] as [number, number] }] };
      const results: FrameResult[] = [];
      for await (const r of stream.results()) {
        results.push(r);
        const n = results.length;
        if (n === 20) stream.configure({ analytics: full });
        if (n === 100) {
          try {
            stream.configure({ analytics: { zones: [{ id: 'z', polygon: [[0, 0], [10, 10], [10, 0], [0, 10]] }] } });
          } catch (e) {
            bad = e;
          }
        }
        if (n === 150) stream.configure({ fpsLimit: 0, analytics: full }); // the same section: counts go on
        if (n === 200) stream.configure({ analytics: { lines: [{ ...full.lines[0]!, id: 'other' }] } });
        if (n === 300) stream.configure({ analytics: null });
      }
      expect(results.slice(0, 20).every((r) => r.analytics === undefined)).toBe(true);
      expect(results.slice(20 + GRACE, 150).every((r) => r.analytics?.lines.full !== undefined)).toBe(true);
      // Unchanged section: cumulative counts never go down across the configure() at 150.
      const counts = results.slice(20 + GRACE, 200).map((r) => r.analytics!.lines.full!.in + r.analytics!.lines.full!.out);
      expect(counts.every((c, i) => i === 0 || c >= counts[i - 1]!)).toBe(true);
      expect(counts.at(-1)!).toBeGreaterThan(0);
      // Replaced: a new engine, counts from zero, under the new id.
      const first = results.slice(200).find((r) => r.analytics?.lines.other)!;
      expect(first.analytics!.lines.other!.in + first.analytics!.lines.other!.out).toBe(0);
      expect(results.slice(300 + GRACE).every((r) => r.analytics === undefined)).toBe(true);
      // A bad section is a ConfigError naming its path, and changes nothing (the line ran on: counts above).
      expect(bad).toBeInstanceOf(ConfigError);
      expect((bad as ConfigError).path).toBe('stream.analytics.zones[0].polygon');
    } finally {
      await pipeline.close();
    }
  }, 300_000);

  it('counts the segment and the zone as the hand count, the same in a second run through camtrack run, and on the wire', async () => {
    const a = await run();
    // The second run: `camtrack run --config` with the same section, its JSON lines (the wire format).
    const cli = runCli();
    expect(a.results).toHaveLength(341);
    const last = a.results.at(-1)!.analytics!;
    expect({ in: last.lines.crossing!.in, out: last.lines.crossing!.out }).toEqual({ in: 4, out: 1 });
    const enters = a.events.filter((e) => e.type === 'zone-enter');
    const exits = a.events.filter((e) => e.type === 'zone-exit');
    expect(new Set(enters.map((e) => e.trackId)).size).toBe(4);
    expect(exits).toHaveLength(4);
    expect(last.zones.plaza!.occupancy).toBe(0);
    // Every line crossing of the events is in its frame's crossedIn / crossedOut, and the counts add up.
    const crosses = a.events.filter((e) => e.type === 'line-cross');
    expect(crosses.map((e) => e.direction).sort()).toEqual(['in', 'in', 'in', 'in', 'out']);
    for (const e of crosses) {
      const r = a.results.find((x) => x.ptsMs === e.tsMs)!;
      expect(e.direction === 'in' ? r.analytics!.lines.crossing!.crossedIn : r.analytics!.lines.crossing!.crossedOut).toContain(e.trackId);
    }
    // Dwell of a zone-exit is positive and bounded by the clip; speeds are px/s of walkers (a few tens).
    for (const e of exits) expect(e.type === 'zone-exit' && e.dwellSeconds > 0 && e.dwellSeconds < 13.7).toBe(true);
    const speeds = a.results.flatMap((r) => r.analytics!.speeds.map((s) => s.speed));
    expect(speeds.length).toBeGreaterThan(100);
    const median = speeds.sort((x, y) => x - y)[speeds.length >> 1]!;
    expect(median).toBeGreaterThan(10);
    expect(median).toBeLessThan(200);
    // Stable across runs: the second run (camtrack run) wrote the same analytics, frame by frame, as the wire form of
    // the first one's, and its cumulative counts are the hand count too.
    expect(cli).toHaveLength(341);
    expect(cli.map((m) => m.analytics)).toEqual(a.results.map((r) => toWireResult(r).analytics));
    expect({ in: cli.at(-1)!.analytics!.lines.crossing!.in, out: cli.at(-1)!.analytics!.lines.crossing!.out }).toEqual({ in: 4, out: 1 });
    // The wire result carries them in snake_case and validates against the schema.
    const withCross = a.results.find((r) => r.analytics!.events.some((e) => e.type === 'line-cross'))!;
    const wire = toWireResult(withCross);
    expectValid(validateWireResult, wire);
    expect(nonSnakeKeys(wire)).toEqual([]);
    expect(wire.analytics!.lines.crossing!.crossed_in.length + wire.analytics!.lines.crossing!.crossed_out.length).toBeGreaterThan(0);
  }, 300_000);

});
