/**
 * Proves the RTSP test harness (test/helpers/rtsp-server.ts + rtsp_server.py): a real gst-rtsp-server on
 * loopback serves a file clip, an endless live camera and a relay of an ffmpeg MPEG-TS publisher, over both
 * RTP transports, as checked by ffprobe. The product's own RTSP tests build on this harness.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { assetPath, describeWithAssets, isCi } from '../helpers/assets.js';
import { freePort, killAllTracked, runBounded, spawnTracked, stopProcess } from '../helpers/processes.js';
import { rtspServerUnavailableReason, startRtspServer, type RtspServer } from '../helpers/rtsp-server.js';

const WALKING = 'videos/walking.mp4';
/** SOURCES.md: walking.mp4 is H.264 High 1280x720, 25 fps. */
const WALKING_STREAM = { codec_name: 'h264', width: 1280, height: 720 };
const LIVE_SPEC = 'live:320x240@15';
const LIVE_STREAM = { codec_name: 'h264', width: 320, height: 240 };

interface ProbedStream {
  codec_name: string;
  width: number;
  height: number;
}

/** ffprobe of the first video stream, bounded by `timeout -k 2 (socketTimeoutS + 10)` and a socket timeout. */
async function probe(url: string, transport: 'tcp' | 'udp', socketTimeoutS = 5): Promise<ProbedStream> {
  const r = await runBounded(
    'ffprobe',
    [
      '-v', 'error',
      '-rtsp_transport', transport,
      '-timeout', String(socketTimeoutS * 1_000_000),
      '-select_streams', 'v:0',
      '-show_entries', 'stream=codec_name,width,height',
      '-of', 'json',
      url,
    ],
    socketTimeoutS + 10,
  );
  expect(r.timedOut, `ffprobe timed out on ${url}: ${r.stderr}`).toBe(false);
  expect(r.code, `ffprobe failed on ${url}: ${r.stderr}`).toBe(0);
  const streams = (JSON.parse(r.stdout) as { streams?: ProbedStream[] }).streams ?? [];
  expect(streams, `no video stream from ${url}`).toHaveLength(1);
  const s = streams[0]!;
  return { codec_name: s.codec_name, width: s.width, height: s.height };
}

const unavailable = rtspServerUnavailableReason();
if (unavailable !== undefined && !isCi) console.warn(`[camtrack tests] skipping RTSP harness tests: ${unavailable}`);
const describeHarness = unavailable !== undefined && !isCi ? describe.skip : describe;

describeWithAssets('RTSP test harness', [WALKING], () => {
  describeHarness('startRtspServer()', () => {
    let server: RtspServer;

    beforeAll(async () => {
      if (unavailable !== undefined) throw new Error(unavailable); // only reached with CI=true
      server = await startRtspServer({ mounts: { '/walk': `file:${assetPath(WALKING)}`, '/live': LIVE_SPEC } });
    });

    afterAll(async () => {
      await server?.stop();
      await killAllTracked();
    });

    it('serves a file clip as H.264 1280x720 over TCP', async () => {
      expect(await probe(server.url('/walk'), 'tcp')).toEqual(WALKING_STREAM);
    });

    it('serves a file clip over UDP', async () => {
      expect(await probe(server.url('/walk'), 'udp')).toEqual(WALKING_STREAM);
    });

    it('serves a live camera as H.264 320x240 over TCP and UDP', async () => {
      expect(await probe(server.url('/live'), 'tcp')).toEqual(LIVE_STREAM);
      expect(await probe(server.url('/live'), 'udp')).toEqual(LIVE_STREAM);
    });

    it('serves two clients of the same file mount at once', async () => {
      const [a, b] = await Promise.all([probe(server.url('/walk'), 'tcp'), probe(server.url('/walk'), 'tcp')]);
      expect(a).toEqual(WALKING_STREAM);
      expect(b).toEqual(WALKING_STREAM);
    });

    it('EXPECTED FAILURE - ffprobe of an unknown mount fails quickly', async () => {
      const r = await runBounded(
        'ffprobe',
        ['-v', 'error', '-rtsp_transport', 'tcp', '-timeout', '5000000', server.url('/nope')],
        15,
      );
      expect(r.timedOut).toBe(false);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/404|Not Found/i);
    });

    it('relays an ffmpeg MPEG-TS publisher (udp: mount)', async () => {
      const udpPort = await freePort('udp');
      const relay = await startRtspServer({ mounts: { '/relay': `udp:${udpPort}` } });
      // The relay's udpsrc binds only when the first client's DESCRIBE prepares the media, so the publisher's
      // first keyframe can go by unheard (CI saw this under load). walking.mp4 has a keyframe every 5.12 s: loop
      // the publisher so keyframes keep coming, and give the probe more than one GOP to get SPS/PPS.
      const publisher = spawnTracked('ffmpeg', [
        '-v', 'error', '-re', '-stream_loop', '-1', '-i', assetPath(WALKING), '-an', '-c:v', 'copy',
        '-f', 'mpegts', `udp://127.0.0.1:${udpPort}?pkt_size=1316`,
      ]);
      try {
        expect(await probe(relay.url('/relay'), 'tcp', 12)).toEqual(WALKING_STREAM);
      } finally {
        await stopProcess(publisher);
        await relay.stop();
      }
    });

    it('stop() ends the server process', async () => {
      const other = await startRtspServer({ mounts: { '/live': LIVE_SPEC } });
      await other.stop();
      expect(other.process.exitCode === 0 || other.process.signalCode !== null).toBe(true);
      const r = await runBounded('ffprobe', ['-v', 'error', '-timeout', '2000000', other.url('/live')], 10);
      expect(r.code).not.toBe(0);
    });
  });
});
