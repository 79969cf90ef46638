/**
 * Locating the shared test data (/work/shared/assets style: models, videos, images, MOT files).
 *
 * Where: env CAMTRACK_ASSETS, else `<repo root>/../shared/assets` (the shared folder sits beside the clone).
 *
 * House rule: a test that needs assets FAILS when env CI=true and they are missing, and SKIPS with a printed
 * reason otherwise. Two ways to get that:
 *
 *   1. A whole suite (preferred; no test body runs without its files):
 *
 *        describeWithAssets('Decoder on walking.mp4', ['videos/walking.mp4'], () => {
 *          it('decodes 341 frames', () => { const p = assetPath('videos/walking.mp4'); ... });
 *        });
 *
 *      Files present → a normal `describe`. Missing + CI → the suite holds one failing test naming the missing
 *      files. Missing elsewhere → `describe.skip` with the reason in its title and a console warning.
 *      Do not read asset files at collection time (top level of the callback): read them in tests or hooks.
 *
 *   2. Inside one test:  `it('...', (ctx) => { requireAssets(ctx, 'models/yolox_nano.onnx'); ... })`
 *      Missing + CI → throws (the test fails); missing elsewhere → `ctx.skip(reason)`.
 *
 * Pure lookups (`assetsDir`, `assetPath`, `missingAssets`) never throw on missing files.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

/** Repository root (two levels above this file: test/helpers → repo). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** True when running under CI (env CI=true); missing assets are then a failure, not a skip. */
export const isCi = process.env.CI === 'true';

/** Absolute path of the assets folder (it may not exist). */
export function assetsDir(): string {
  const env = process.env.CAMTRACK_ASSETS;
  return env !== undefined && env !== '' ? path.resolve(env) : path.resolve(repoRoot, '..', 'shared', 'assets');
}

/** Absolute path of one asset, e.g. `assetPath('videos/walking.mp4')`. Does not check that it exists. */
export function assetPath(relative: string): string {
  return path.join(assetsDir(), relative);
}

/** The relative paths among `relatives` that do not exist (all of them when the folder is absent). */
export function missingAssets(relatives: readonly string[]): string[] {
  return relatives.filter((r) => !existsSync(assetPath(r)));
}

/** What the assets folder looks like right now. */
export interface AssetsState {
  dir: string;
  /** The folder exists. */
  available: boolean;
}

/** The assets folder, resolved once at import. */
export const assets: AssetsState = { dir: assetsDir(), available: existsSync(assetsDir()) };

function missingMessage(missing: readonly string[]): string {
  return (
    `test assets missing under ${assetsDir()}: ${missing.join(', ')} ` +
    `(set CAMTRACK_ASSETS to the shared assets folder, default <repo>/../shared/assets)`
  );
}

/**
 * `describe` that needs the given asset files (paths relative to the assets folder). See the file header.
 */
export function describeWithAssets(name: string, needs: readonly string[], fn: () => void): void {
  const missing = missingAssets(needs);
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const message = missingMessage(missing);
  if (isCi) {
    describe(name, () => {
      it('finds its test assets (required when CI=true)', () => {
        throw new Error(message);
      });
    });
    return;
  }
  console.warn(`[camtrack tests] skipping "${name}": ${message}`);
  describe.skip(`${name} [skipped: ${message}]`, fn);
}

/** Minimal part of vitest's test context that {@link requireAssets} uses. */
export interface SkippableContext {
  skip(note?: string): never;
}

/**
 * Per-test guard: returns normally when all files exist; otherwise throws (CI=true) or skips the test with the
 * reason (`ctx.skip`, which also throws to end the test body).
 */
export function requireAssets(ctx: SkippableContext, ...needs: string[]): void {
  const missing = missingAssets(needs);
  if (missing.length === 0) return;
  const message = missingMessage(missing);
  if (isCi) throw new Error(message);
  console.warn(`[camtrack tests] skipping: ${message}`);
  ctx.skip(message);
}
