/**
 * Turns a model file + the user's overrides into everything the native pipeline needs: input geometry and
 * normalisation, output layout, class count and names, anchor count and the batch policy. The file decides
 * (shapes, metadata); options override; nothing is guessed silently — an unusable model is ERR_CAMTRACK_MODEL
 * with the shape that did not fit.
 */
import { CamtrackError } from '../errors.js';
import type { NormalisedConfig, OutputLayout } from '../config.js';
import { COCO_CLASSES, readModelInfo, type ModelInfo } from './model-info.js';

export interface ResolvedModel {
  path: string;
  info: ModelInfo;
  inputName: string;
  outputName: string;
  layout: OutputLayout;
  inputWidth: number;
  inputHeight: number;
  channelOrder: 'rgb' | 'bgr';
  letterbox: 'center' | 'top-left';
  padValue: number;
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  classNames: string[];
  numClasses: number;
  numAnchors: number;
  /** Output floats per image. */
  outputElemsPerImage: number;
  /** Fixed batch dimension of the model, or null when dynamic. */
  fixedBatch: number | null;
}

function modelError(path: string, message: string, hint: string): CamtrackError {
  return new CamtrackError(`${path}: ${message}`, 'ERR_CAMTRACK_MODEL', { stage: 'model', hint });
}

function anchorsForStrides(w: number, h: number, strides: number[]): number {
  return strides.reduce((n, s) => n + Math.floor(w / s) * Math.floor(h / s), 0);
}

/** Detects the output layout from the output shape (the rules below; `model.layout` overrides). Exported for tests. */
export function detectLayout(shape: (number | string)[], inputW: number, inputH: number): OutputLayout | undefined {
  if (shape.length !== 3) return undefined;
  const d1 = shape[1],
    d2 = shape[2];
  if (typeof d1 !== 'number' || typeof d2 !== 'number') return undefined;
  const yoloxAnchors = anchorsForStrides(inputW, inputH, [8, 16, 32]);
  // Before the e2e rule: a single-class YOLOX head is [B, anchors, 5+1] (ByteTrack's person detectors), which has
  // the e2e width 6; an e2e head's N is its maximum detection count (e.g. 300), not the anchor count of its input.
  if (d1 === yoloxAnchors && d2 > 5) return 'yolox';
  if (d2 === 6 && d1 !== 6) return 'e2e';
  if (d2 === yoloxAnchors && d1 > 4 && d1 < d2) return 'ultralytics';
  if (d1 > 4 && d1 < d2) return 'ultralytics';
  if (d2 > 5 && d1 > d2) return 'yolox';
  return undefined;
}

export async function resolveModel(config: NormalisedConfig['model']): Promise<ResolvedModel> {
  const info = await readModelInfo(config.path);
  const p = config.path;
  const ishape = info.inputShape;
  if (ishape.length !== 4 || (typeof ishape[1] === 'number' && ishape[1] !== 3)) {
    throw modelError(p, `input ${info.inputName} has shape [${ishape.join(',')}], expected [B,3,H,W]`, 'camtrack runs image detectors with NCHW float input');
  }
  if (info.inputType !== 'float32') {
    throw modelError(p, `input type ${info.inputType} is not supported (float32 only in this version)`, 'export the model with float32 input');
  }
  // The workers copy the output into a Float32Array and the native parsers read floats: any other element type
  // (a half-precision export's float16) would be read as garbage boxes, not fail.
  const outputType = info.outputTypes[0];
  if (outputType !== 'float32') {
    throw modelError(
      p,
      `output ${info.outputName} type ${outputType} is not supported (float32 only in this version)`,
      'export the model with float32 output (no half-precision export)',
    );
  }
  const inputHeight = typeof ishape[2] === 'number' ? ishape[2] : info.imgsz?.[0];
  const inputWidth = typeof ishape[3] === 'number' ? ishape[3] : info.imgsz?.[1];
  if (!inputWidth || !inputHeight) {
    throw modelError(p, `input size is dynamic ([${ishape.join(',')}]) and the model has no imgsz metadata`, 'export with a fixed input size');
  }
  const oshape = info.outputShape;
  const layout = config.layout ?? detectLayout(oshape, inputWidth, inputHeight);
  if (!layout) {
    throw modelError(
      p,
      `cannot tell the output layout from output ${info.outputName} shape [${oshape.join(',')}]`,
      "set model.layout to 'ultralytics' ([B,4+nc,N]), 'yolox' ([B,N,5+nc]) or 'e2e' ([B,N,6])",
    );
  }
  const d1 = Number(oshape[1]),
    d2 = Number(oshape[2]);
  if (!Number.isInteger(d1) || !Number.isInteger(d2)) {
    throw modelError(p, `output shape [${oshape.join(',')}] is not fixed`, 'export with fixed output dimensions');
  }
  let numClasses: number, numAnchors: number;
  if (layout === 'ultralytics') {
    numClasses = d1 - 4;
    numAnchors = d2;
  } else if (layout === 'yolox') {
    numClasses = d2 - 5;
    numAnchors = d1;
    const expected = anchorsForStrides(inputWidth, inputHeight, [8, 16, 32]);
    if (numAnchors !== expected) {
      throw modelError(p, `YOLOX output has ${numAnchors} anchors; strides 8/16/32 at ${inputWidth}x${inputHeight} give ${expected}`, 'check the model input size');
    }
  } else {
    if (d2 !== 6) throw modelError(p, `end-to-end output must be [B,N,6], got [${oshape.join(',')}]`, 'check model.layout');
    numAnchors = d1;
    numClasses = info.classNames?.length ?? config.classNames?.length ?? COCO_CLASSES.length;
  }
  if (numClasses < 1) throw modelError(p, `output shape [${oshape.join(',')}] leaves no class columns`, 'check model.layout');
  const classNames = config.classNames ?? info.classNames ?? (numClasses === 80 ? [...COCO_CLASSES] : Array.from({ length: numClasses }, (_, i) => `class${i}`));
  if (classNames.length < numClasses) {
    throw modelError(p, `${classNames.length} class names for ${numClasses} classes`, 'give model.classNames with one name per class');
  }
  const yolox = layout === 'yolox';
  return {
    path: p,
    info,
    inputName: info.inputName,
    outputName: info.outputName,
    layout,
    inputWidth,
    inputHeight,
    channelOrder: config.channelOrder ?? (yolox ? 'bgr' : 'rgb'),
    letterbox: config.letterbox ?? (yolox ? 'top-left' : 'center'),
    padValue: config.padValue ?? 114,
    scale: config.scale ?? (yolox ? 1 : 1 / 255),
    mean: config.mean ?? [0, 0, 0],
    std: config.std ?? [1, 1, 1],
    classNames,
    numClasses,
    numAnchors,
    outputElemsPerImage: d1 * d2,
    fixedBatch: info.fixedBatch,
  };
}
