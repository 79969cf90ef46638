import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { packageRoot } from '../native.js';

/**
 * `camtrack build-native`: the source build of the addon where no prebuilt fits (another platform, an old glibc, a
 * build of your own), in the installed package: scripts/build-native.mjs (cmake-js; its checks print the apt command
 * when FFmpeg's development files, cmake or a compiler are missing). Exit status: the build's.
 */
export async function runBuildNative(): Promise<number> {
  const r = spawnSync(process.execPath, [path.join(packageRoot, 'scripts', 'build-native.mjs')], {
    cwd: packageRoot,
    stdio: 'inherit',
  });
  if (r.error) {
    console.error(`camtrack build-native: ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}
