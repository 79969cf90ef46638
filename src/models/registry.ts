/**
 * Well-known detectors that `camtrack models fetch NAME` downloads: each pinned to one file at one commit of its
 * origin repository, with its size and sha256, so what lands on disk is exactly the file camtrack was tested with
 * (the shared test assets, ../shared/assets/SOURCES.md). None is shipped with the package.
 *
 * A download goes to a temporary file beside the destination and is renamed into place only after its size and
 * sha256 match; on any failure the temporary file is removed and nothing is left behind.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { CamtrackError, redactSecretsIn } from '../errors.js';

export interface KnownModel {
  description: string;
  /** Weights' license. The Ultralytics ones are AGPL-3.0. */
  license: string;
  /** The origin: GitHub repository, commit and path of the file. */
  repo: string;
  commit: string;
  path: string;
  /** Bytes. */
  size: number;
  sha256: string;
}

export const MODELS = {
  yolox_nano: {
    description: 'YOLOX-Nano, COCO 80 classes, 416x416, fp32',
    license: 'Apache-2.0 (Megvii YOLOX weights)',
    repo: 'Bigisland1729/object-detection-models',
    commit: '6e770c5ef34fa42aaa2521eb7d0d9ec2bb5f40a3',
    path: 'yolox_nano.onnx',
    size: 3_678_356,
    sha256: 'e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd',
  },
  yolov8n_int8: {
    description: 'Ultralytics YOLOv8n, COCO 80 classes, 640x640, int8 dynamic',
    license: 'AGPL-3.0 (Ultralytics weights)',
    repo: 'Lamri-Meriem/edge-object-detection',
    commit: 'a6844ef947be6d0dd3aeafcf4cac6f3d01806e10',
    path: 'yolov8n_int8.onnx',
    size: 3_504_119,
    sha256: '83de8f0d2cd521e00ae2b138c340a03dece35b060b3898509bdc69afff417312',
  },
  yolo11n_int8_320: {
    description: 'Ultralytics YOLO11n, COCO 80 classes, 320x320, int8 dynamic (fastest)',
    license: 'AGPL-3.0 (Ultralytics weights)',
    repo: 'achmadnr21/mwc-rpi5',
    commit: 'c08389a78c8b363d82fde443b3a12ecd5ff73fc5',
    path: 'yolo11n_int8.onnx',
    size: 2_923_867,
    sha256: '5ea9b19c6c4d89041175fd2d4f9d2e1581d16f37b817021d547278fc5e2f2b58',
  },
  yolo26n_int8_e2e: {
    description: 'Ultralytics YOLO26n, COCO 80 classes, 640x640, int8 dynamic, end-to-end (no NMS)',
    license: 'AGPL-3.0 (Ultralytics weights)',
    repo: 'jatinbalajisailada/realtime-object-detection',
    commit: '73416e95a3502de8debf244ba32a3bd7875e4a03',
    path: 'yolo26n_int8.onnx',
    size: 2_908_758,
    sha256: '912af18b308425e7214fb2ea198261a8a336522579c55c8422d5e40dca1c2a5d',
  },
} as const satisfies Record<string, KnownModel>;

export type ModelName = keyof typeof MODELS;

/** The raw file at its pinned commit. */
export function modelUrl(model: KnownModel): string {
  return `https://raw.githubusercontent.com/${model.repo}/${model.commit}/${model.path}`;
}

export interface FetchModelOptions {
  /** Folder the file is written to, as `<name>.onnx`. Default: the current directory. */
  outDir?: string;
  /** Replace a file that is already there (else one with the pinned checksum is kept, any other is an error). */
  force?: boolean;
  /** A mirror holding the files as `<baseUrl>/<name>.onnx`. Default: env CAMTRACK_MODELS_BASE_URL, else the origin. */
  baseUrl?: string;
}

export interface FetchedModel {
  file: string;
  /** False when a file with the pinned checksum was already there. */
  downloaded: boolean;
}

/**
 * Downloads a well-known model and verifies its size and sha256 before it appears at `<outDir>/<name>.onnx`.
 *
 * @throws CamtrackError ERR_CAMTRACK_DOWNLOAD when the server cannot be reached, answers with an error, or sends
 *   another file (nothing is left behind), or when a different file is already there and `force` is not set.
 */
export async function fetchModel(name: ModelName, options: FetchModelOptions = {}): Promise<FetchedModel> {
  const model: KnownModel = MODELS[name];
  const file = path.resolve(options.outDir ?? '.', `${name}.onnx`);
  const baseUrl = options.baseUrl ?? process.env.CAMTRACK_MODELS_BASE_URL;
  const url = baseUrl ? `${baseUrl.replace(/\/+$/, '')}/${name}.onnx` : modelUrl(model);
  const byHand =
    `download ${modelUrl(model)} by hand (origin: https://github.com/${model.repo}, commit ${model.commit}, ` +
    `file ${model.path}), check that its sha256 is ${model.sha256}, and save it as ${file}`;
  const fail = (message: string, hint = byHand): CamtrackError =>
    new CamtrackError(`${name}: ${redactSecretsIn(message)}`, 'ERR_CAMTRACK_DOWNLOAD', { stage: 'models', hint });

  if (!options.force && existsSync(file)) {
    if ((await sha256Of(file)) === model.sha256) return { file, downloaded: false };
    throw fail(`${file} already exists and is not the pinned file (sha256 differs)`, 'pass --force to replace it');
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    const e = err as Error & { cause?: Error };
    throw fail(`cannot download ${url}: ${e.cause?.message ?? e.message}`);
  }
  if (!response.ok || !response.body) throw fail(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);

  await mkdir(path.dirname(file), { recursive: true });
  const part = `${file}.${randomUUID().slice(0, 8)}.part`;
  try {
    const hash = createHash('sha256');
    let size = 0;
    const out = await open(part, 'wx');
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        // A larger body is the wrong file whatever follows: stop reading it.
        if (size > model.size) break;
        hash.update(chunk);
        await out.write(chunk);
      }
    } finally {
      await out.close();
    }
    const sha256 = size === model.size ? hash.digest('hex') : undefined;
    if (sha256 !== model.sha256) {
      throw fail(
        `${url} sent another file than the pinned one: ` +
          (sha256 === undefined ? `${size > model.size ? 'more than ' : ''}${size} bytes, expected ${model.size}` : `sha256 ${sha256}, expected ${model.sha256}`) +
          '; nothing was written',
        `the server (or a proxy, or --base-url's mirror) sent a different file; ${byHand}`,
      );
    }
    await rename(part, file);
  } finally {
    await rm(part, { force: true });
  }
  return { file, downloaded: true };
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
