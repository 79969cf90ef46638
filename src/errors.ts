/**
 * Typed errors with stable codes. Native code throws instances of {@link CamtrackError} (the class is handed to the
 * addon at load), so `err instanceof CamtrackError` and `err.code` work for errors from every layer.
 *
 * Codes (stable): ERR_CAMTRACK_INVALID_ARGUMENT, ERR_CAMTRACK_INVALID_CONFIG, ERR_CAMTRACK_INVALID_STATE,
 * ERR_CAMTRACK_SOURCE_OPEN, ERR_CAMTRACK_SOURCE_READ, ERR_CAMTRACK_DECODE, ERR_CAMTRACK_MODEL,
 * ERR_CAMTRACK_INFERENCE, ERR_CAMTRACK_CUDA, ERR_CAMTRACK_UNSUPPORTED, ERR_CAMTRACK_NATIVE_LOAD,
 * ERR_CAMTRACK_BACKEND, ERR_CAMTRACK_FFMPEG_MISSING, ERR_CAMTRACK_INTERNAL.
 */
export type CamtrackErrorCode =
  | 'ERR_CAMTRACK_INVALID_ARGUMENT'
  | 'ERR_CAMTRACK_INVALID_CONFIG'
  | 'ERR_CAMTRACK_INVALID_STATE'
  | 'ERR_CAMTRACK_SOURCE_OPEN'
  | 'ERR_CAMTRACK_SOURCE_READ'
  | 'ERR_CAMTRACK_DECODE'
  | 'ERR_CAMTRACK_MODEL'
  | 'ERR_CAMTRACK_INFERENCE'
  | 'ERR_CAMTRACK_CUDA'
  | 'ERR_CAMTRACK_UNSUPPORTED'
  | 'ERR_CAMTRACK_NATIVE_LOAD'
  | 'ERR_CAMTRACK_BACKEND'
  | 'ERR_CAMTRACK_FFMPEG_MISSING'
  | 'ERR_CAMTRACK_INTERNAL';

export interface CamtrackErrorOptions {
  /** Pipeline stage that failed: 'source', 'decode', 'inference', 'config', … */
  stage?: string;
  /** What to do about it. */
  hint?: string;
  /** The underlying library's code (AVERROR, cudaError_t, …). */
  nativeCode?: number;
  cause?: unknown;
}

export class CamtrackError extends Error {
  readonly code: CamtrackErrorCode;
  stage?: string;
  hint?: string;
  nativeCode?: number;

  constructor(message: string, code: CamtrackErrorCode = 'ERR_CAMTRACK_INTERNAL', options: CamtrackErrorOptions = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'CamtrackError';
    this.code = code;
    if (options.stage !== undefined) this.stage = options.stage;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.nativeCode !== undefined) this.nativeCode = options.nativeCode;
  }
}

/** Using an object after close()/dispose(). */
export class InvalidStateError extends CamtrackError {
  constructor(message: string) {
    super(message, 'ERR_CAMTRACK_INVALID_STATE', { hint: 'create a new object; closed ones cannot be reused' });
    this.name = 'InvalidStateError';
  }
}

/** A configuration value that fails validation. `path` names the field, e.g. `streams[2].fpsLimit`. */
export class ConfigError extends CamtrackError {
  readonly path: string;
  constructor(path: string, message: string, hint?: string) {
    super(`${path}: ${message}`, 'ERR_CAMTRACK_INVALID_CONFIG', { stage: 'config', ...(hint ? { hint } : {}) });
    this.name = 'ConfigError';
    this.path = path;
  }
}

/** `of type number` style description used in argument errors (sharp's message shape). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  const type = Array.isArray(value) ? 'array' : typeof value;
  let shown: string;
  try {
    shown = typeof value === 'string' ? JSON.stringify(value) : type === 'object' || type === 'array' ? JSON.stringify(value) : String(value);
  } catch {
    shown = String(value);
  }
  if (shown.length > 80) shown = shown.slice(0, 77) + '...';
  return `${shown} of type ${type}`;
}

/** Removes credentials from a URL for messages: rtsp://user:pass@host → rtsp://***@host. */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i, '$1***@')
    .replace(/([?&](?:token|password|passwd|pass|key|secret|auth)=)[^&#]*/gi, '$1***');
}
