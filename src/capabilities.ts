/**
 * What this build and this machine can do, with the exact reason when something is missing; backs
 * `capabilities()` and `camtrack doctor`. Native probes (CUDA, NVDEC, TensorRT, FFmpeg) come from the addon;
 * onnxruntime's execution providers from onnxruntime-node.
 */
import { createRequire } from 'node:module';

import { ortLogLevel } from './backends/onnxruntime.js';
import { missingProvider, probeProviders, type ProviderStatus } from './backends/providers.js';
import type { BackendName } from './config.js';
import { CamtrackError } from './errors.js';
import { loadNative, nativeLoadInfo, type NativeCapabilities, type NativeLoadInfo } from './native.js';

export interface Capabilities {
  native: {
    loaded: boolean;
    reason?: string;
    cuda?: boolean;
    tensorrt?: boolean;
    /** Which addon loaded: 'prebuilt' (@camtrack/linux-x64), 'local build', 'CAMTRACK_NATIVE_PATH', 'explicit path'. */
    source?: string;
    file?: string;
    /** For the prebuilt addon: its package and the FFmpeg/libjpeg-turbo package it loads. */
    prebuilt?: { addon: string; libs?: string; ffmpeg?: string; libjpegTurbo?: string; glibc?: string };
  };
  cuda: NativeCapabilities['cuda'] | { available: false; reason: string };
  nvdec: { available: boolean; reason?: string };
  tensorrt: { available: boolean; reason?: string };
  ffmpeg: NativeCapabilities['ffmpeg'] | { available: false; reason: string };
  onnxruntime: {
    available: boolean;
    version?: string;
    /** Execution providers onnxruntime-node has here with nothing missing (not started: see `providers`). */
    executionProviders: string[];
    /** Every provider onnxruntime-node has on this platform, started for real; from probeCapabilities() (doctor). */
    providers?: ProviderStatus[];
    reason?: string;
  };
  /** What backend 'auto' picks on this machine, and why. */
  autoBackend: { backend: 'onnxruntime' | 'tensorrt' | 'none'; reason: string };
}

/**
 * Picks the backend for `requested`. TensorRT inference is not part of this version: 'auto' always resolves to
 * onnxruntime (with the reason in capabilities().autoBackend) and an explicit 'tensorrt' is ERR_CAMTRACK_UNSUPPORTED.
 */
export function selectBackend(requested: BackendName, _native: NativeCapabilities): 'onnxruntime' {
  if (requested === 'tensorrt') {
    throw new CamtrackError('the TensorRT backend is not implemented in this version of camtrack', 'ERR_CAMTRACK_UNSUPPORTED', {
      stage: 'inference',
      hint: "use backend 'onnxruntime' or 'auto'",
    });
  }
  return 'onnxruntime';
}

type OrtModule = typeof import('onnxruntime-node');

/** onnxruntime-node, or why it does not load (capabilities() reports it instead of throwing). */
function loadOrt(): OrtModule | Error {
  try {
    return createRequire(import.meta.url)('onnxruntime-node') as OrtModule;
  } catch (err) {
    return err as Error;
  }
}

function onnxruntimeInfo(ort: OrtModule | Error): Capabilities['onnxruntime'] {
  if (ort instanceof Error) return { available: false, executionProviders: [], reason: ort.message.split('\n')[0] ?? 'load failed' };
  const version = ort.env.versions.node ?? ort.env.versions.common;
  // cuda and tensorrt need libraries that onnxruntime-node's install script downloads (providers.ts).
  const eps = ort.listSupportedBackends().map((b) => b.name).filter((name) => missingProvider(ort, name) === undefined);
  return { available: true, ...(version ? { version } : {}), executionProviders: eps };
}

/**
 * capabilities() plus `onnxruntime.providers`: each execution provider onnxruntime-node has on this platform, started
 * on a trivial model (available, or why not and how to get it). For `camtrack doctor`; takes a moment per provider.
 */
export async function probeCapabilities(): Promise<Capabilities> {
  const caps = capabilities();
  const ort = loadOrt();
  if (ort instanceof Error) return caps;
  ort.env.logLevel = ortLogLevel(); // a provider that fails to start also prints its error unless told not to
  return { ...caps, onnxruntime: { ...caps.onnxruntime, providers: await probeProviders(ort) } };
}

export function capabilities(): Capabilities {
  const ort = onnxruntimeInfo(loadOrt());
  let nativeCaps: NativeCapabilities | undefined;
  let nativeReason: string | undefined;
  let build: { cuda: boolean; tensorrt: boolean } | undefined;
  try {
    const n = loadNative();
    nativeCaps = n.capabilities();
    build = n.buildInfo;
  } catch (err) {
    nativeReason = (err as Error).message;
  }
  const missing = { available: false as const, reason: `native addon not loaded: ${nativeReason ?? ''}` };
  const trtReason = nativeCaps?.tensorrt.available
    ? 'TensorRT is present, but the TensorRT backend is not implemented in this version'
    : `TensorRT unavailable (${nativeCaps?.tensorrt.reason ?? 'native addon not loaded'})`;
  const info = nativeCaps ? nativeLoadInfo() : undefined;
  return {
    native: {
      loaded: !!nativeCaps,
      ...(nativeReason ? { reason: nativeReason } : {}),
      ...(build ?? {}),
      ...(info ? { source: info.source, file: info.file } : {}),
      ...(info?.prebuilt ? { prebuilt: prebuiltSummary(info.prebuilt) } : {}),
    },
    cuda: nativeCaps?.cuda ?? missing,
    nvdec: nativeCaps?.nvdec ?? missing,
    tensorrt: nativeCaps?.tensorrt ?? missing,
    ffmpeg: nativeCaps?.ffmpeg ?? missing,
    onnxruntime: ort,
    autoBackend: ort.available
      ? { backend: 'onnxruntime', reason: `${trtReason}; onnxruntime-node ${ort.version ?? ''} with ${ort.executionProviders.join(', ')}` }
      : { backend: 'none', reason: `no backend: onnxruntime-node failed to load (${ort.reason})` },
  };
}

function prebuiltSummary(p: NonNullable<NativeLoadInfo['prebuilt']>): NonNullable<Capabilities['native']['prebuilt']> {
  const c = p.addon.camtrack;
  return {
    addon: `${p.addon.name}@${p.addon.version}`,
    ...(p.libs ? { libs: `${p.libs.name}@${p.libs.version}` } : {}),
    ...(p.libs?.camtrack.ffmpeg ? { ffmpeg: p.libs.camtrack.ffmpeg } : {}),
    ...(p.libs?.camtrack.libjpegTurbo ? { libjpegTurbo: p.libs.camtrack.libjpegTurbo } : {}),
    ...(c.glibc ? { glibc: c.glibc } : {}),
  };
}

/** Readable text for `camtrack doctor`. */
export function formatCapabilities(c: Capabilities): string {
  const yes = (ok: boolean): string => (ok ? 'yes' : 'no ');
  const lines: string[] = [];
  lines.push(`native addon   ${yes(c.native.loaded)} ${c.native.loaded ? `(built with CUDA: ${c.native.cuda ? 'yes' : 'no'}, TensorRT: ${c.native.tensorrt ? 'yes' : 'no'})` : c.native.reason}`);
  if (c.native.loaded) {
    const p = c.native.prebuilt;
    lines.push(`  from         ${c.native.source}: ${c.native.file}`);
    if (p) {
      lines.push(
        `  prebuilt     ${p.addon} (needs glibc ≥ ${p.glibc ?? '?'}) with ${p.libs ?? 'no FFmpeg package'} ` +
          `(FFmpeg ${p.ffmpeg ?? '?'}, libjpeg-turbo ${p.libjpegTurbo ?? '?'})`,
      );
    }
  }
  const cu = c.cuda as NativeCapabilities['cuda'];
  lines.push(`CUDA           ${yes(c.cuda.available)} ${c.cuda.available ? cu.devices.map((d) => `${d.name} (sm ${d.computeCapability}, ${(d.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB)`).join('; ') + ` driver ${cu.driverVersion} runtime ${cu.runtimeVersion}` : c.cuda.reason}`);
  lines.push(`NVDEC          ${yes(c.nvdec.available)} ${c.nvdec.reason ?? ''}`);
  lines.push(`TensorRT       ${yes(c.tensorrt.available)} ${c.tensorrt.reason ?? ''}`);
  if ('version' in c.ffmpeg) {
    const f = c.ffmpeg;
    lines.push(`FFmpeg         yes ${f.version} (avformat ${f.avformat}, avcodec ${f.avcodec}, swscale ${f.swscale}); hwaccels: ${f.hwaccels.join(', ') || 'none'}`);
  } else {
    lines.push(`FFmpeg         no  ${c.ffmpeg.reason}`);
  }
  lines.push(`onnxruntime    ${yes(c.onnxruntime.available)} ${c.onnxruntime.available ? `${c.onnxruntime.version ?? ''} execution providers: ${c.onnxruntime.executionProviders.join(', ')}` : c.onnxruntime.reason}`);
  for (const p of c.onnxruntime.providers ?? []) {
    lines.push(`  provider ${p.name.padEnd(9)}${yes(p.available)}${p.reason ? ` ${p.reason}` : ''}`);
    if (p.howToGet) lines.push(`    how to get it: ${p.howToGet}`);
  }
  lines.push(`backend 'auto' → ${c.autoBackend.backend}: ${c.autoBackend.reason}`);
  return lines.join('\n');
}
