/**
 * The input tensor of the raw onnxruntime trials: one real frame of the benchmark's source, letterboxed and
 * normalised the way the pipeline does it for this model (channel order, placement, pad, scale, mean/std), decoded
 * once with the ffmpeg CLI before the measurement; or, when ffmpeg/ffprobe is missing or the source cannot be
 * read, a constant fill with the pad value (114). The report says which (`details.input`). CNN cost does not
 * depend on pixel values, so both give the same timing; the real frame just keeps the comparison obviously fair.
 */
import { execFileSync } from 'node:child_process';

import type { ResolvedModel } from '../models/resolve.js';

export interface BenchInput {
  /** [batch,3,H,W] float32, every image the same frame. Owned by the caller. */
  data: Float32Array;
  kind: 'letterboxed-frame' | 'constant-pad';
  /** Why the real frame was not used (only for 'constant-pad'). */
  reason?: string;
}

export function makeInput(model: ResolvedModel, source: string, batch: number): BenchInput {
  const W = model.inputWidth,
    H = model.inputHeight;
  const imageElems = 3 * W * H;
  const data = new Float32Array(batch * imageElems);
  const norm = (c: number, v: number): number => (v * model.scale - model.mean[c]!) / model.std[c]!;
  let kind: BenchInput['kind'] = 'constant-pad';
  let reason: string | undefined;
  let pixels: Buffer | undefined;
  let w = 0,
    h = 0;
  try {
    const probe = execFileSync(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', source],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 },
    )
      .toString()
      .trim()
      .split(',')
      .map(Number);
    const [sw, sh] = probe as [number, number];
    if (!(sw > 0 && sh > 0)) throw new Error(`ffprobe gave size ${probe.join('x')}`);
    const s = Math.min(W / sw, H / sh);
    w = Math.max(1, Math.min(W, Math.round(sw * s)));
    h = Math.max(1, Math.min(H, Math.round(sh * s)));
    pixels = execFileSync(
      'ffmpeg',
      ['-v', 'error', '-ss', '1', '-i', source, '-frames:v', '1', '-vf', `scale=${w}:${h}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000, maxBuffer: 64 << 20 },
    );
    if (pixels.length !== w * h * 3) throw new Error(`ffmpeg gave ${pixels.length} bytes for ${w}x${h}x3`);
    kind = 'letterboxed-frame';
  } catch (err) {
    reason = (err as Error).message.split('\n')[0];
    pixels = undefined;
  }
  const plane = W * H;
  for (let c = 0; c < 3; c++) data.fill(norm(c, model.padValue), c * plane, (c + 1) * plane);
  if (pixels) {
    const x0 = model.letterbox === 'center' ? Math.floor((W - w) / 2) : 0;
    const y0 = model.letterbox === 'center' ? Math.floor((H - h) / 2) : 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = (y * w + x) * 3;
        const dst = (y0 + y) * W + (x0 + x);
        for (let c = 0; c < 3; c++) {
          // pixels are RGB; the tensor's channel c is R,G,B or B,G,R.
          const v = pixels[src + (model.channelOrder === 'rgb' ? c : 2 - c)]!;
          data[c * plane + dst] = norm(c, v);
        }
      }
    }
  }
  for (let b = 1; b < batch; b++) data.copyWithin(b * imageElems, 0, imageElems);
  return reason === undefined ? { data, kind } : { data, kind, reason };
}
