/**
 * What the native build in build/ contains, read from build/CMakeCache.txt, for the GPU tier: a test whose
 * executable is missing must skip (loudly) when the build could not have it, and fail when it should have it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { repoRoot } from './assets.js';

export const BUILD_COMMAND = 'CMAKE_BUILD_PARALLEL_LEVEL=2 npm run build:native';

/** One entry of build/CMakeCache.txt (`NAME:TYPE=value`), or undefined (no cache, no entry). */
export function buildCacheEntry(name: string): string | undefined {
  const cache = path.join(repoRoot, 'build', 'CMakeCache.txt');
  if (!existsSync(cache)) return undefined;
  return readFileSync(cache, 'utf8').match(new RegExp(`^${name}:[A-Z]+=(.*)$`, 'm'))?.[1]?.trim();
}

/**
 * Why the build has no CUDA code, or undefined when it has (CMakeLists.txt writes CAMTRACK_CUDA_COMPILED; an older
 * cache without it is judged by CAMTRACK_ENABLE_CUDA and CMAKE_CUDA_COMPILER).
 */
export function whyNoCudaBuild(): string | undefined {
  if (!existsSync(path.join(repoRoot, 'build', 'CMakeCache.txt'))) {
    return `the native build has not been run (no build/CMakeCache.txt); run \`${BUILD_COMMAND}\``;
  }
  if (buildCacheEntry('CAMTRACK_ENABLE_CUDA') === 'OFF') return 'the native build was configured with CAMTRACK_ENABLE_CUDA=OFF';
  const compiled = buildCacheEntry('CAMTRACK_CUDA_COMPILED');
  if (compiled !== undefined) {
    return compiled === 'ON' ? undefined : 'the native build found no CUDA compiler (nvcc), so it has no CUDA code';
  }
  const nvcc = buildCacheEntry('CMAKE_CUDA_COMPILER');
  if (!nvcc || nvcc.endsWith('NOTFOUND')) return 'the native build found no CUDA compiler (nvcc), so it has no CUDA code';
  return undefined;
}
