/**
 * Output-layout detection (src/models/resolve.ts, detectLayout): the one place camtrack tells a detector's output
 * layout from its output shape; the native parser receives the layout by name. Pure TypeScript: no addon.
 * Shapes of the shared models are the real ones (SOURCES.md; read from the files by test/addon/images.test.ts).
 */
import { describe, expect, it } from 'vitest';

import { detectLayout } from '../../src/models/resolve.js';

describe('detectLayout', () => {
  it('tells the layout of the four shared models from their output shapes', () => {
    expect(detectLayout([1, 3549, 85], 416, 416)).toBe('yolox'); // yolox_nano.onnx: 3549 = 52² + 26² + 13² anchors
    expect(detectLayout([1, 84, 8400], 640, 640)).toBe('ultralytics'); // yolov8n_int8.onnx
    expect(detectLayout([1, 84, 2100], 320, 320)).toBe('ultralytics'); // yolo11n_int8_320.onnx
    expect(detectLayout([1, 300, 6], 640, 640)).toBe('e2e'); // yolo26n_int8_e2e.onnx
  });

  it('accepts a dynamic batch dimension (a name or -1) and needs only the last two dimensions to be fixed', () => {
    expect(detectLayout(['batch', 84, 8400], 640, 640)).toBe('ultralytics');
    expect(detectLayout([-1, 3549, 85], 416, 416)).toBe('yolox');
    expect(detectLayout([1, 'anchors', 85], 416, 416)).toBeUndefined();
  });

  it('falls back to the shape alone when the anchor count does not match strides 8/16/32 (e.g. another head)', () => {
    // 640 model with a P2 head: 8400 + 160² anchors; more anchors than channels → ultralytics [B, 4+nc, N].
    expect(detectLayout([1, 84, 34000], 640, 640)).toBe('ultralytics');
    // YOLOX-style [B, N, 5+nc] with an unexpected N.
    expect(detectLayout([1, 5000, 85], 640, 640)).toBe('yolox');
  });

  it('returns undefined (the caller asks for model.layout) when the shape cannot be told', () => {
    expect(detectLayout([84, 8400], 640, 640)).toBeUndefined(); // rank 2
    expect(detectLayout([1, 1, 84, 8400], 640, 640)).toBeUndefined(); // rank 4
    expect(detectLayout([1, 4, 4], 640, 640)).toBeUndefined(); // no class columns either way
    expect(detectLayout([1, 6, 6], 640, 640)).toBeUndefined(); // square: e2e needs N ≠ 6
  });
});
