/**
 * inference.executionProviders are tried in order: the pipeline runs on the first that starts, with ONE pipeline
 * 'warning' naming the ones before it and why; a list where none starts is ERR_CAMTRACK_UNSUPPORTED naming the
 * missing library and how to get it. Real onnxruntime-node 1.30 on a machine whose CUDA provider was not downloaded
 * (this repo's .npmrc skips onnxruntime-node's install script), so 'cuda' cannot start here.
 * Reproduced at 3b7e67b: ['cuda', 'cpu'] and ['cuda'] both failed create() with "ERR_CAMTRACK_MODEL: onnxruntime
 * could not load …: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library".
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

import { missingProvider } from '../../dist/backends/providers.js';
import { CamtrackError, Pipeline, type FrameResult } from '../../dist/index.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
const WALKING = 'videos/walking.mp4';
const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
const cudaInstalled = missingProvider(ort, 'cuda') === undefined;
if (cudaInstalled) console.warn('[camtrack tests] skipping execution-provider fallback tests: the cuda provider is installed here');
const describeNoCuda = cudaInstalled ? describe.skip : describe;

describeWithAssets('Pipeline inference.executionProviders', [FAST_MODEL, WALKING], () => {
  describeNoCuda('without the CUDA provider', () => {
    it("['cuda', 'cpu'] runs on cpu with one pipeline warning naming cuda and its missing library", async () => {
      await using p = await Pipeline.create({ model: assetPath(FAST_MODEL), inference: { executionProviders: ['cuda', 'cpu'], workers: 2 } });
      const warnings: { err: CamtrackError; stream: unknown }[] = [];
      p.on('warning', (err: CamtrackError, stream: unknown) => warnings.push({ err, stream }));
      expect(p.executionProvider).toBe('cpu');
      const s = p.addStream({ id: 'clip', url: assetPath(WALKING), fpsLimit: 5 });
      const results: FrameResult[] = [];
      for await (const r of s.results()) results.push(r);
      expect(await s.whenEnded()).toBe('ended');
      expect(results.length).toBeGreaterThan(50); // 341 frames at 25 fps → ~69 at 5 fps, every one delivered
      expect(s.stats().dropped.inference).toBe(0);
      // One warning for the pipeline (two workers, one warning), no stream.
      expect(warnings).toHaveLength(1);
      const { err, stream } = warnings[0]!;
      expect(stream).toBeUndefined();
      expect(err).toBeInstanceOf(CamtrackError);
      expect(err.code).toBe('ERR_CAMTRACK_UNSUPPORTED');
      expect(err.message).toMatch(/^execution provider cuda did not start \(.*libonnxruntime_providers_cuda\.so .*not installed.*\); running on cpu$/);
      expect(err.hint).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
    });

    it("EXPECTED FAILURE - ['cuda'] alone is ERR_CAMTRACK_UNSUPPORTED naming the missing library and how to get it", async () => {
      const err = await Pipeline.create({ model: assetPath(FAST_MODEL), inference: { executionProviders: ['cuda'] } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CamtrackError);
      expect((err as CamtrackError).code).toBe('ERR_CAMTRACK_UNSUPPORTED');
      expect((err as CamtrackError).message).toMatch(/^no execution provider of \[cuda\] can start here: cuda: .*libonnxruntime_providers_cuda\.so/);
      expect((err as CamtrackError).hint).toMatch(/npm approve-scripts onnxruntime-node.*ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
    });

    it("EXPECTED FAILURE - a provider onnxruntime-node does not have is named with the ones it has", async () => {
      const err = (await Pipeline.create({ model: assetPath(FAST_MODEL), inference: { executionProviders: ['nope'] } }).catch((e: unknown) => e)) as CamtrackError;
      expect(err.code).toBe('ERR_CAMTRACK_UNSUPPORTED');
      expect(err.message).toMatch(/nope: onnxruntime-node [\d.]+ has no 'nope' execution provider on \S+ \(it has cpu\b/);
    });
  });
});
