/**
 * onnxruntime-node's execution providers: which ones it has on this platform, whether each can start here, why not,
 * and how to get it. Backs the provider fallback of the inference workers (ort-worker.ts: `inference.
 * executionProviders` are tried in order, the session runs on the first that starts) and `camtrack doctor`.
 *
 * onnxruntime-node bundles its CPU provider (and WebGPU); on linux/x64 its CUDA and TensorRT providers are shared
 * libraries that its install script downloads from NuGet (script/install-metadata.js, manifest `cuda12`). npm can
 * skip that script (`onnxruntime-node-install=skip` in .npmrc, ONNXRUNTIME_NODE_INSTALL=skip, or an `allowScripts`
 * entry that does not approve it), and then onnxruntime only says "Failed to load shared library"; the file check
 * here names the missing library.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import type * as Ort from 'onnxruntime-node';

import { CamtrackError } from '../errors.js';
import { encodeModel, modelHeader, node, TensorDataType } from '../models/onnx-proto.js';

type OrtModule = Pick<typeof Ort, 'InferenceSession' | 'listSupportedBackends' | 'env'>;

/** One execution provider as `camtrack doctor` and capabilities() report it. */
export interface ProviderStatus {
  name: string;
  available: boolean;
  /** Why it cannot start (when not available). */
  reason?: string;
  /** How to get it (when not available and there is a way). */
  howToGet?: string;
}

/** The shared libraries a provider needs in onnxruntime-node's binary folder (its install script's manifest). */
const PROVIDER_LIBRARIES: Record<string, readonly string[]> = {
  cuda: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'],
  tensorrt: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_tensorrt.so'],
};

const GPU_PROVIDER_HINT =
  "onnxruntime-node's install script downloads its CUDA and TensorRT providers (CUDA 12 builds, from NuGet " +
  'Microsoft.ML.OnnxRuntime.Gpu.Linux); run it: approve it (`npm approve-scripts onnxruntime-node`, or ' +
  '"allowScripts": { "onnxruntime-node": true } in package.json, replacing a `false` entry), drop any ' +
  '`onnxruntime-node-install=skip` (.npmrc) or ONNXRUNTIME_NODE_INSTALL=skip setting, then `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`. ' +
  'They need the NVIDIA driver, CUDA 12 and cuDNN 9 libraries; TensorRT also needs TensorRT (libnvinfer)';

const require = createRequire(import.meta.url);

/** onnxruntime-node's binary folder, where its install script puts the provider libraries. */
function binaryDir(): string {
  return path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** Provider names onnxruntime-node was built with for this platform (bundled or downloaded by its install script). */
export function supportedProviders(ort: OrtModule): string[] {
  return ort.listSupportedBackends().map((b) => b.name);
}

/**
 * Why `name` cannot start, when that can be told without starting it: onnxruntime-node has no such provider here,
 * or a library it needs is not installed. Undefined when nothing is missing.
 */
export function missingProvider(ort: OrtModule, name: string): string | undefined {
  const supported = supportedProviders(ort);
  if (!supported.includes(name)) {
    return `onnxruntime-node ${ort.env.versions.node ?? ''} has no '${name}' execution provider on ${process.platform}/${process.arch} (it has ${supported.join(', ')})`;
  }
  const dir = binaryDir();
  const missing = (PROVIDER_LIBRARIES[name] ?? []).filter((lib) => !existsSync(path.join(dir, lib)));
  return missing.length ? `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed in ${dir}` : undefined;
}

/** How to get provider `name`, when camtrack knows a way. */
export function howToGetProvider(name: string): string | undefined {
  return PROVIDER_LIBRARIES[name] ? GPU_PROVIDER_HINT : undefined;
}

/** A model any provider can run (Identity on one float): starting a session on it tests the provider alone. */
let probeModel: Uint8Array | undefined;
function tinyModel(): Uint8Array {
  probeModel ??= encodeModel({
    ...modelHeader('camtrack'),
    graph: {
      name: 'provider-probe',
      node: [node('Identity', ['x'], ['y'])],
      initializer: [],
      input: [{ name: 'x', elemType: TensorDataType.FLOAT, shape: [1] }],
      output: [{ name: 'y', elemType: TensorDataType.FLOAT, shape: [1] }],
    },
    metadataProps: [],
  });
  return probeModel;
}

/** Why provider `name` cannot start here (its missing library, or its error on a trivial model); undefined if it starts. */
export async function whyProviderCannotStart(ort: OrtModule, name: string): Promise<string | undefined> {
  const missing = missingProvider(ort, name);
  if (missing) return missing;
  try {
    const session = await ort.InferenceSession.create(tinyModel(), { executionProviders: [name] });
    await session.release();
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

/** Every provider onnxruntime-node has on this platform, started for real (doctor). */
export async function probeProviders(ort: OrtModule): Promise<ProviderStatus[]> {
  const out: ProviderStatus[] = [];
  for (const name of supportedProviders(ort)) {
    const reason = await whyProviderCannotStart(ort, name);
    const howToGet = howToGetProvider(name);
    out.push(reason === undefined ? { name, available: true } : { name, available: false, reason, ...(howToGet ? { howToGet } : {}) });
  }
  return out;
}

/** A session on the first of `providers` that starts, and the ones before it that did not, with why. */
export interface ProviderSession {
  session: Ort.InferenceSession;
  provider: string;
  skipped: { name: string; reason: string }[];
}

/**
 * Creates the session on the first provider of `providers` (in order) that starts. A provider that fails is skipped
 * when it cannot start on its own (missing library, no device; whyProviderCannotStart); a provider that starts but
 * cannot load the model rethrows the model's error. None left: ERR_CAMTRACK_UNSUPPORTED naming each and why.
 */
export async function createSessionOnFirstProvider(
  ort: OrtModule,
  modelPath: string,
  providers: readonly string[],
  options: (providers: string[]) => Ort.InferenceSession.SessionOptions,
): Promise<ProviderSession> {
  const skipped: ProviderSession['skipped'] = [];
  for (const name of providers) {
    const missing = missingProvider(ort, name);
    if (missing) {
      skipped.push({ name, reason: missing });
      continue;
    }
    try {
      return { session: await ort.InferenceSession.create(modelPath, options([name])), provider: name, skipped };
    } catch (err) {
      const reason = await whyProviderCannotStart(ort, name);
      if (reason === undefined) throw err;
      skipped.push({ name, reason });
    }
  }
  const hints = [...new Set(skipped.map((s) => howToGetProvider(s.name)).filter((h) => h !== undefined))];
  throw new CamtrackError(
    `no execution provider of [${providers.join(', ')}] can start here: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
    'ERR_CAMTRACK_UNSUPPORTED',
    { stage: 'inference', hint: [...hints, "add 'cpu' to inference.executionProviders to fall back to the CPU"].join('; ') },
  );
}
