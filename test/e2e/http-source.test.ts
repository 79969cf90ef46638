/**
 * HTTP(S) sources: the addon opens http:// URLs itself (libavformat). A real HTTP server on loopback (node:http,
 * with Range support as file servers have) serves a shared clip; a 404 is a SOURCE_OPEN error with a hint.
 */
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { Pipeline, type FrameResult } from '../../dist/index.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

describeWithAssets('Pipeline with an http:// source', ['videos/car-detection.mp4', 'models/yolo11n_int8_320.onnx'], () => {
  let server: http.Server;
  let base = '';
  beforeAll(async () => {
    const clip = assetPath('videos/car-detection.mp4');
    const size = statSync(clip).size;
    server = http.createServer((req, res) => {
      if (req.url !== '/clip.mp4') {
        res.writeHead(404).end('not found');
        return;
      }
      const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
      if (m) {
        const start = Number(m[1]);
        const end = m[2] ? Number(m[2]) : size - 1;
        res.writeHead(206, {
          'Content-Type': 'video/mp4',
          'Accept-Ranges': 'bytes',
          'Content-Range': `bytes ${start}-${end}/${size}`,
          'Content-Length': end - start + 1,
        });
        createReadStream(clip, { start, end }).pipe(res);
      } else {
        res.writeHead(200, { 'Content-Type': 'video/mp4', 'Accept-Ranges': 'bytes', 'Content-Length': size });
        createReadStream(clip).pipe(res);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('decodes every frame of a clip served over HTTP, in order', async () => {
    await using pipeline = await Pipeline.create({ model: assetPath('models/yolo11n_int8_320.onnx') });
    const stream = pipeline.addStream({ id: 'http', url: `${base}/clip.mp4` });
    const frames: FrameResult[] = [];
    for await (const r of stream.results()) frames.push(r);
    expect(stream.state).toBe('ended');
    // car-detection.mp4: 377 decoded frames, 768x432 (SOURCES.md).
    expect(frames.length).toBe(377);
    expect(frames.every((f, i) => f.frameIndex === i && f.width === 768 && f.height === 432)).toBe(true);
  });

  it('EXPECTED FAILURE - a 404 ends the stream as failed with ERR_CAMTRACK_SOURCE_OPEN and a hint', async () => {
    await using pipeline = await Pipeline.create({ model: assetPath('models/yolo11n_int8_320.onnx') });
    const stream = pipeline.addStream({ id: 'missing', url: `${base}/nope.mp4`, openTimeoutMs: 5000 });
    const errors: { code: string; hint?: string; message: string }[] = [];
    stream.on('error', (e) => errors.push(e));
    expect(await stream.whenEnded()).toBe('failed');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('ERR_CAMTRACK_SOURCE_OPEN');
    expect(errors[0]!.message).toMatch(/404|Not Found/i);
    expect(errors[0]!.hint).toBeTruthy();
  });
});
