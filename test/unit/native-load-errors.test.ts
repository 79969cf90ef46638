/**
 * The loader's explanations (src/native-prebuilt.ts): dlopen's messages in the user's words, and the prebuilt lookup
 * that decides before any load (package missing, another camtrack version, a glibc older than the package's floor).
 * The messages are glibc's own texts (copied from real failures: a missing library, an old glibc, an old libstdc++);
 * "invalid ELF header" is produced for real by loading a file that is not a binary. The missing-library case is also
 * tested for real, on an installed package in a clean Debian root, by test/e2e/package.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  compareVersions,
  explainLoadError,
  findPrebuilt,
  glibcVersion,
  prebuiltCannotOpen,
  PREBUILT_ADDON_PACKAGE,
  PREBUILT_LIBS_PACKAGE,
} from '../../src/native-prebuilt.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const tmp = lazyTempDir('camtrack-loader-');
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64' && glibcVersion() !== undefined;

/** A fake install: <root>/node_modules/camtrack (the package root) and the given @camtrack packages. */
function fakeInstall(name: string, packages: Record<string, object>): string {
  const root = path.join(tmp(), name);
  const camtrack = path.join(root, 'node_modules', 'camtrack');
  mkdirSync(camtrack, { recursive: true });
  writeFileSync(path.join(camtrack, 'package.json'), JSON.stringify({ name: 'camtrack', version: '1.2.3' }));
  for (const [pkg, json] of Object.entries(packages)) {
    const dir = path.join(root, 'node_modules', pkg);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: pkg, ...json }));
  }
  return camtrack;
}

describe('explainLoadError()', () => {
  const prebuilt = {
    kind: 'prebuilt' as const,
    file: '/p/node_modules/@camtrack/linux-x64/camtrack.node',
    addonDir: '/p/node_modules/@camtrack/linux-x64',
  };

  it('names a missing bundled library and the package that should have provided it (not installed)', () => {
    const msg = 'libavformat_camtrack.so.59: cannot open shared object file: No such file or directory';
    const text = explainLoadError(msg, prebuilt, '2.36');
    expect(text).toContain('libavformat_camtrack.so.59');
    expect(text).toContain(`which ${PREBUILT_LIBS_PACKAGE} provides`);
    expect(text).toContain(`${PREBUILT_LIBS_PACKAGE} is not installed`);
    expect(text).toContain('npm install --include=optional camtrack');
  });

  it('says when the FFmpeg package is installed but lacks the library (a damaged install)', () => {
    const libs = { name: PREBUILT_LIBS_PACKAGE, version: '1.2.3', dir: path.join(tmp(), 'no-such-dir'), camtrack: {} };
    const text = explainLoadError('libturbojpeg.so.0: cannot open shared object file: No such file or directory', {
      ...prebuilt,
      libs,
    });
    expect(text).toContain('libturbojpeg.so.0');
    expect(text).toContain('lacks lib/libturbojpeg.so.0');
  });

  it('names the system package of a library a source build needs', () => {
    const text = explainLoadError(
      '/x/build/Release/camtrack.node: libavcodec.so.59: cannot open shared object file: No such file or directory',
      { kind: 'build', file: '/x/build/Release/camtrack.node' },
    );
    expect(text).toContain('libavcodec.so.59');
    expect(text).toContain('libavcodec59 (FFmpeg)');
  });

  it('says the glibc is too old, with both versions', () => {
    const msg =
      "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.35' not found (required by /p/node_modules/@camtrack/linux-x64/camtrack.node)";
    const text = explainLoadError(msg, prebuilt, '2.31');
    expect(text).toBe(
      "this system's glibc 2.31 (Debian 11, Ubuntu 20.04) is too old: the addon needs glibc 2.35 or newer; no prebuilt fits this system",
    );
  });

  it("says the C++ runtime is too old for a build of one's own", () => {
    const msg =
      "/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.30' not found (required by /x/camtrack.node)";
    expect(explainLoadError(msg, { kind: 'build', file: '/x/camtrack.node' })).toContain(
      'libstdc++) is too old: the addon needs GLIBCXX_3.4.30',
    );
  });

  it('says a file is not a binary for this machine (a real dlopen of a text file)', () => {
    const file = path.join(tmp(), 'not-elf.node');
    writeFileSync(file, 'not an ELF file\n'.repeat(8));
    let message = '';
    try {
      createRequire(import.meta.url)(file);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/invalid ELF header/);
    expect(explainLoadError(message, { kind: 'build', file })).toMatch(
      /^not-elf\.node is not a linux-x64 binary for this machine/,
    );
  });
});

describe('prebuiltCannotOpen()', () => {
  it('refuses the TLS schemes (the prebuilt FFmpeg has no TLS) and nothing else', () => {
    expect(prebuiltCannotOpen('https://cam/live.m3u8')).toBe(
      `https:// sources need TLS, which the prebuilt FFmpeg (${PREBUILT_LIBS_PACKAGE}) does not have`,
    );
    expect(prebuiltCannotOpen('RTSPS://user:pw@cam/1')).toMatch(/^rtsps:\/\/ sources need TLS/);
    for (const ok of ['rtsp://cam/1', 'http://cam/x.mp4', '/videos/clip.mp4', 'udp://0.0.0.0:5000', 'clip-https.mp4']) {
      expect(prebuiltCannotOpen(ok), ok).toBeUndefined();
    }
  });
});

describe('findPrebuilt()', () => {
  it('reports the prebuilt package missing, with the npm command that installs it', () => {
    const r = findPrebuilt(fakeInstall('none', {}), '1.2.3');
    expect(r.kind).toBe('none');
    if (onLinuxX64)
      expect(r.kind === 'none' && r.reason).toMatch(
        new RegExp(`^${PREBUILT_ADDON_PACKAGE} is not installed.*--include=optional`),
      );
  });

  it.skipIf(!onLinuxX64)('refuses a prebuilt of another camtrack version', () => {
    const dir = fakeInstall('other-version', {
      [PREBUILT_ADDON_PACKAGE]: { version: '1.2.2', camtrack: { glibc: '2.17' } },
    });
    const r = findPrebuilt(dir, '1.2.3');
    expect(r.kind === 'none' && r.reason).toContain(`${PREBUILT_ADDON_PACKAGE} 1.2.2`);
    expect(r.kind === 'none' && r.reason).toContain('npm install camtrack@1.2.3');
  });

  it.skipIf(!onLinuxX64)('says the glibc is older than the prebuilt needs, before loading anything', () => {
    const dir = fakeInstall('new-glibc', {
      [PREBUILT_ADDON_PACKAGE]: { version: '1.2.3', camtrack: { glibc: '9.99' } },
    });
    const r = findPrebuilt(dir, '1.2.3');
    expect(r.kind === 'none' && r.reason).toBe(
      `this system's glibc ${glibcVersion()}${glibcVersion() === '2.36' ? ' (Debian 12)' : ''} is older than the 9.99 the prebuilt addon needs; no prebuilt fits this system`,
    );
  });

  it.skipIf(!onLinuxX64)('finds the addon and its FFmpeg package', () => {
    const dir = fakeInstall('found', {
      [PREBUILT_ADDON_PACKAGE]: { version: '1.2.3', camtrack: { glibc: '2.17' } },
      [PREBUILT_LIBS_PACKAGE]: { version: '1.2.3', camtrack: { ffmpeg: '5.1.9' } },
    });
    const r = findPrebuilt(dir, '1.2.3');
    expect(r.kind).toBe('found');
    if (r.kind !== 'found') return;
    expect(r.file).toBe(path.join(path.dirname(dir), '@camtrack', 'linux-x64', 'camtrack.node'));
    expect(r.libs?.camtrack.ffmpeg).toBe('5.1.9');
  });

  it('compares dotted versions numerically', () => {
    expect(compareVersions('2.9', '2.10')).toBe(-1);
    expect(compareVersions('2.35', '2.35')).toBe(0);
    expect(compareVersions('2.36', '2.35.1')).toBe(1);
  });
});
