/**
 * What the native build in build/ contains, read from build/CMakeCache.txt, for the tests of native executables: a
 * test whose executable is missing must skip (loudly) when the build could not have it, and fail when it should
 * have it, or when CI=true.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { isCi, repoRoot } from './assets.js';

/** The developer build: the addon plus the native test and benchmark executables (`npm run build:native` builds the addon only). */
export const BUILD_COMMAND = 'CMAKE_BUILD_PARALLEL_LEVEL=2 npm run build:dev';

const CMAKE_CACHE = path.join(repoRoot, 'build', 'CMakeCache.txt');
const NO_CUDA_COMPILER = 'the native build found no CUDA compiler (nvcc), so it has no CUDA code';

/** The text of build/CMakeCache.txt, or undefined when the native build has not been configured. */
function readBuildCache(): string | undefined {
  return existsSync(CMAKE_CACHE) ? readFileSync(CMAKE_CACHE, 'utf8') : undefined;
}

/** One entry (`NAME:TYPE=value`) of a CMakeCache.txt text, or undefined. */
function cacheEntry(cache: string, name: string): string | undefined {
  return cache.match(new RegExp(`^${name}:[A-Z]+=(.*)$`, 'm'))?.[1]?.trim();
}

/** One entry of build/CMakeCache.txt (`NAME:TYPE=value`), or undefined (no cache, no entry). */
export function buildCacheEntry(name: string): string | undefined {
  const cache = readBuildCache();
  return cache === undefined ? undefined : cacheEntry(cache, name);
}

/**
 * Why the build has no CUDA code, or undefined when it has (CMakeLists.txt writes CAMTRACK_CUDA_COMPILED; an older
 * cache without it is judged by CAMTRACK_ENABLE_CUDA and CMAKE_CUDA_COMPILER).
 */
export function whyNoCudaBuild(): string | undefined {
  const cache = readBuildCache();
  if (cache === undefined) {
    return `the native build has not been run (no build/CMakeCache.txt); run \`${BUILD_COMMAND}\``;
  }
  if (cacheEntry(cache, 'CAMTRACK_ENABLE_CUDA') === 'OFF') return 'the native build was configured with CAMTRACK_ENABLE_CUDA=OFF';
  const compiled = cacheEntry(cache, 'CAMTRACK_CUDA_COMPILED');
  if (compiled !== undefined) return compiled === 'ON' ? undefined : NO_CUDA_COMPILER;
  const nvcc = cacheEntry(cache, 'CMAKE_CUDA_COMPILER');
  return !nvcc || nvcc.endsWith('NOTFOUND') ? NO_CUDA_COMPILER : undefined;
}

/**
 * Why build/ has none of the executables of an opt-in option (CAMTRACK_BUILD_TESTS or CAMTRACK_BUILD_BENCH), naming
 * the command that builds them; undefined when the cache does not say OFF. OFF is what a plain
 * `npm run build:native` configures. Under CI=true (which builds with BUILD_COMMAND) it THROWS instead: there a
 * missing native test or benchmark executable is a failure, never a skip.
 */
export function whyOptInOff(option: 'CAMTRACK_BUILD_TESTS' | 'CAMTRACK_BUILD_BENCH'): string | undefined {
  if (buildCacheEntry(option) !== 'OFF') return undefined;
  const why = `the native build was configured with ${option}=OFF (the addon-only build); build them with \`${BUILD_COMMAND}\``;
  if (isCi) throw new Error(`${why} (CI=true: required, not skipped)`);
  return why;
}
