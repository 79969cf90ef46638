/**
 * The prebuilt addon packages and the loader's explanations, in the user's words (src/native.ts uses both).
 *
 * On linux-x64 with glibc, `npm install camtrack` installs two optional dependencies (scripts/prebuild.mjs makes them;
 * docs/install.md): `@camtrack/linux-x64` holds `camtrack.node` (static libstdc++, RUNPATH to the FFmpeg package) and
 * `@camtrack/ffmpeg-linux-x64` holds the LGPL FFmpeg libraries (names suffixed `_camtrack`: `libavcodec_camtrack.so.59`)
 * and libjpeg-turbo's `libturbojpeg.so.0`, plus the `ffmpeg` tool the demo encodes with. Each package.json has a
 * `camtrack` block: `{ glibc: '2.34', … }`, the highest glibc symbol version its binaries need (objdump -T).
 *
 * {@link explainLoadError} turns dlopen's messages into what is wrong and what to do: a missing shared library named
 * with the package (or Debian package) that provides it, a glibc or libstdc++ too old, a binary for another machine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The platform the prebuilt packages are made for (scripts/prebuild.mjs). */
export const PREBUILT_PLATFORM = 'linux-x64';
export const PREBUILT_ADDON_PACKAGE = '@camtrack/linux-x64';
export const PREBUILT_LIBS_PACKAGE = '@camtrack/ffmpeg-linux-x64';
/** Library names as the bundled FFmpeg builds them (scripts/prebuilt/versions.sh FFMPEG_BUILD_SUFFIX). */
export const BUNDLED_LIB_PATTERN =
  /^lib(avformat|avcodec|avutil|swscale|avfilter)_camtrack\.so\.\d+$|^libturbojpeg\.so\.\d+$/;
/** The fix for every case where no prebuilt fits: the source build. */
export const BUILD_FROM_SOURCE =
  'npx camtrack build-native (builds the addon from source; needs FFmpeg development files, cmake and a C++17 compiler: ' +
  'sudo node_modules/camtrack/scripts/install-system-deps.sh)';

export interface PackageInfo {
  name: string;
  version: string;
  dir: string;
  /** The package.json `camtrack` block (glibc floor, FFmpeg version, …). */
  camtrack: { glibc?: string; ffmpeg?: string; libjpegTurbo?: string; cuda?: boolean };
}

function readPackage(dir: string): PackageInfo {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    camtrack?: PackageInfo['camtrack'];
  };
  return { name: pkg.name, version: pkg.version, dir, camtrack: pkg.camtrack ?? {} };
}

/** The installed package `name` as resolved from `fromDir` (Node's module resolution), or undefined. */
export function findPackage(name: string, fromDir: string): PackageInfo | undefined {
  try {
    const require = createRequire(path.join(fromDir, 'noop.js'));
    return readPackage(path.dirname(require.resolve(`${name}/package.json`)));
  } catch {
    return undefined;
  }
}

/** glibc version of this process ('2.36'), or undefined where the C library is not glibc (musl) or not Linux. */
export function glibcVersion(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime;
}

/** -1, 0, 1 for dotted versions ('2.34' vs '2.35'). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** The distributions a glibc version ships with, for messages. */
function distroOf(glibc: string): string {
  const known: Record<string, string> = {
    '2.31': 'Debian 11, Ubuntu 20.04',
    '2.34': 'RHEL 9',
    '2.35': 'Ubuntu 22.04',
    '2.36': 'Debian 12',
    '2.39': 'Ubuntu 24.04',
  };
  return known[glibc] ? ` (${known[glibc]})` : '';
}

/** Where the prebuilt addon is, or why there is none for this machine (a sentence, for the loader's list). */
export type PrebuiltLookup =
  { kind: 'found'; file: string; addon: PackageInfo; libs?: PackageInfo } | { kind: 'none'; reason: string };

/**
 * Finds the prebuilt addon for this machine from `fromDir` (camtrack's package root), checking before any load what
 * can be checked: platform, C library, the package being installed, its version against camtrack's, and the glibc
 * floor against this system's glibc.
 */
export function findPrebuilt(fromDir: string, camtrackVersion: string): PrebuiltLookup {
  const platform = `${process.platform}-${process.arch}`;
  if (platform !== PREBUILT_PLATFORM) {
    return {
      kind: 'none',
      reason: `no prebuilt addon for ${platform} (prebuilt packages exist for ${PREBUILT_PLATFORM} with glibc)`,
    };
  }
  const glibc = glibcVersion();
  if (glibc === undefined) {
    return {
      kind: 'none',
      reason:
        "no prebuilt addon for this system's C library: the prebuilt packages need glibc, and this Linux has another (musl?)",
    };
  }
  const addon = findPackage(PREBUILT_ADDON_PACKAGE, fromDir);
  if (!addon) {
    return {
      kind: 'none',
      reason:
        `${PREBUILT_ADDON_PACKAGE} is not installed. npm installs it with camtrack as an optional dependency; it is ` +
        'left out by --omit=optional (--no-optional), by a lockfile made on another platform, or when its download ' +
        `failed: npm install --include=optional camtrack`,
    };
  }
  if (addon.version !== camtrackVersion) {
    return {
      kind: 'none',
      reason: `${PREBUILT_ADDON_PACKAGE} ${addon.version} (${addon.dir}) belongs to camtrack ${addon.version}, not to this camtrack ${camtrackVersion}: npm install camtrack@${camtrackVersion}`,
    };
  }
  const floor = addon.camtrack.glibc;
  if (floor && compareVersions(glibc, floor) < 0) {
    return {
      kind: 'none',
      reason:
        `this system's glibc ${glibc}${distroOf(glibc)} is older than the ${floor}${distroOf(floor)} the prebuilt addon ` +
        'needs; no prebuilt fits this system',
    };
  }
  const file = path.join(addon.dir, 'camtrack.node');
  const libs = findPackage(PREBUILT_LIBS_PACKAGE, addon.dir);
  return { kind: 'found', file, addon, ...(libs ? { libs } : {}) };
}

/** Debian/Ubuntu packages of the system libraries a source build links, for messages. */
function systemPackageOf(lib: string): string | undefined {
  const m = /^lib(avformat|avcodec|avutil|swscale|swresample|avfilter|avdevice)\.so\.(\d+)$/.exec(lib);
  if (m) return `lib${m[1]}${m[2]} (FFmpeg)`;
  if (/^libturbojpeg\.so\.0$/.test(lib)) return 'libturbojpeg0 (libjpeg-turbo)';
  if (/^libz\.so\.1$/.test(lib)) return 'zlib1g';
  if (/^libstdc\+\+\.so\.6$/.test(lib)) return 'libstdc++6';
  if (/^libgcc_s\.so\.1$/.test(lib)) return 'libgcc-s1';
  return undefined;
}

/** What a failed load of `file` means, for the candidate it came from. */
export interface LoadContext {
  /** 'prebuilt' for the @camtrack/linux-x64 addon; anything else is a build of the user's own. */
  kind: 'prebuilt' | 'build';
  file: string;
  /** For 'prebuilt': the FFmpeg/libjpeg-turbo package as resolved from the addon's package, if installed. */
  libs?: PackageInfo;
  /** For 'prebuilt': the addon's package folder. */
  addonDir?: string;
}

/**
 * One sentence (or two) for a failed `require()` of a `.node` file: what is wrong in the user's words and what to do.
 * `message` is the error's message (dlopen's text); `glibc` this system's glibc version, when known.
 */
export function explainLoadError(
  message: string,
  ctx: LoadContext,
  glibc: string | undefined = glibcVersion(),
): string {
  const first = message.split('\n')[0] ?? message;
  const missingLib = /(?:^|\s)([^\s:/]+\.so(?:\.[\d.]+)?): cannot open shared object file/.exec(first)?.[1];
  if (missingLib) {
    if (ctx.kind === 'prebuilt' && BUNDLED_LIB_PATTERN.test(missingLib)) {
      const expected = ctx.addonDir ? path.resolve(ctx.addonDir, '..', 'ffmpeg-linux-x64', 'lib') : undefined;
      let where: string;
      if (!ctx.libs) {
        where =
          `${PREBUILT_LIBS_PACKAGE} is not installed (npm left out the optional dependency): ` +
          `npm install --include=optional camtrack`;
      } else if (!existsSync(path.join(ctx.libs.dir, 'lib', missingLib))) {
        where = `${PREBUILT_LIBS_PACKAGE} ${ctx.libs.version} at ${ctx.libs.dir} lacks lib/${missingLib} (a damaged install): reinstall camtrack`;
      } else {
        where =
          `${PREBUILT_LIBS_PACKAGE} is installed at ${ctx.libs.dir}, where the addon does not look` +
          (expected ? ` (it looks in ${expected})` : '') +
          ': reinstall camtrack so that npm puts both packages side by side';
      }
      return `the prebuilt addon needs ${missingLib}, which ${PREBUILT_LIBS_PACKAGE} provides, and it was not found: ${where}`;
    }
    const pkg = systemPackageOf(missingLib);
    return (
      `a shared library the addon needs is missing: ${missingLib}` +
      (pkg ? `, from the system package ${pkg}` : '') +
      (ctx.kind === 'build'
        ? ' (this addon was built on a machine that has it: install it here, or rebuild with npx camtrack build-native)'
        : '')
    );
  }
  const glibcNeed = /version `GLIBC_([\d.]+)' not found/.exec(first)?.[1];
  if (glibcNeed) {
    return (
      `this system's glibc${glibc ? ` ${glibc}${distroOf(glibc)}` : ''} is too old: the addon needs glibc ${glibcNeed} or newer` +
      (ctx.kind === 'prebuilt'
        ? '; no prebuilt fits this system'
        : ' (it was built on a newer system; rebuild it here)')
    );
  }
  const cxxNeed = /version `((?:GLIBCXX|CXXABI)_[\d.]+)' not found/.exec(first)?.[1];
  if (cxxNeed) {
    return `this system's C++ runtime (libstdc++) is too old: the addon needs ${cxxNeed} (built with a newer compiler than this system has; rebuild it here)`;
  }
  if (/invalid ELF header|wrong ELF class|ELF file's phentsize|not a dynamic executable|file too short/.test(first)) {
    return `${path.basename(ctx.file)} is not a ${PREBUILT_PLATFORM} binary for this machine (${first.trim()})`;
  }
  const undefinedSymbol = /undefined symbol: (\S+)/.exec(first)?.[1];
  if (undefinedSymbol) {
    return (
      `the addon and a library it loaded do not match (undefined symbol ${undefinedSymbol}): it was built against ` +
      'another version of that library (e.g. FFmpeg) than the one found here; rebuild it here'
    );
  }
  return first.trim();
}

/**
 * Why the prebuilt FFmpeg cannot open `url`, or undefined: it has no TLS (docs/install.md), so an `https://`,
 * `rtsps://` or `tls://` source could never open and would only retry. Checked by Pipeline#addStream when the
 * prebuilt addon is the one loaded.
 */
export function prebuiltCannotOpen(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'https' || scheme === 'rtsps' || scheme === 'tls') {
    return `${scheme}:// sources need TLS, which the prebuilt FFmpeg (${PREBUILT_LIBS_PACKAGE}) does not have`;
  }
  return undefined;
}
