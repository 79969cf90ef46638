/**
 * Typed errors with stable codes. Native code throws instances of {@link CamtrackError} (the class is handed to the
 * addon at load), so `err instanceof CamtrackError` and `err.code` work for errors from every layer.
 *
 * Codes (stable): ERR_CAMTRACK_INVALID_ARGUMENT, ERR_CAMTRACK_INVALID_CONFIG, ERR_CAMTRACK_INVALID_STATE,
 * ERR_CAMTRACK_SOURCE_OPEN, ERR_CAMTRACK_SOURCE_READ, ERR_CAMTRACK_DECODE, ERR_CAMTRACK_MODEL,
 * ERR_CAMTRACK_INFERENCE, ERR_CAMTRACK_CUDA, ERR_CAMTRACK_UNSUPPORTED, ERR_CAMTRACK_NATIVE_LOAD,
 * ERR_CAMTRACK_BACKEND, ERR_CAMTRACK_FFMPEG_MISSING, ERR_CAMTRACK_DOWNLOAD, ERR_CAMTRACK_REDIS, ERR_CAMTRACK_INTERNAL;
 * detection sessions of `camtrack serve` (docs/sessions.md): ERR_CAMTRACK_BAD_FRAME (a frame or message a session
 * cannot take: bad base64, not an image of the session's codec, too large, malformed JSON, unknown message type),
 * ERR_CAMTRACK_SESSION_NOT_FOUND, ERR_CAMTRACK_SESSION_LIMIT (the cap on sessions is reached).
 * `camtrack serve` (HTTP 401/404/409/400): ERR_CAMTRACK_UNAUTHORIZED, ERR_CAMTRACK_NOT_FOUND, ERR_CAMTRACK_CONFLICT,
 * ERR_CAMTRACK_BAD_REQUEST.
 * Snapshots (docs/serve.md): ERR_CAMTRACK_SNAPSHOT_TIMEOUT (no frame came in time: the camera is connecting or
 * reconnecting), ERR_CAMTRACK_RATE_LIMITED (HTTP 429: over serve.snapshot.maxFps).
 * Event outputs (docs/analytics.md): ERR_CAMTRACK_WEBHOOK (a webhook delivery failed or was dropped),
 * ERR_CAMTRACK_MQTT (the MQTT broker refused or went away).
 * Outputs: ERR_CAMTRACK_OUTPUT (something camtrack writes could not be written: a result line of `camtrack run` —
 * disk full, broken pipe; counted — or `camtrack serve`'s camera state file).
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
  | 'ERR_CAMTRACK_DOWNLOAD'
  | 'ERR_CAMTRACK_REDIS'
  | 'ERR_CAMTRACK_BAD_FRAME'
  | 'ERR_CAMTRACK_SESSION_NOT_FOUND'
  | 'ERR_CAMTRACK_SESSION_LIMIT'
  /** gRPC (docs/grpc.md): a call whose deadline passed before its frame reached inference; the frame was dropped. */
  | 'ERR_CAMTRACK_DEADLINE_EXCEEDED'
  | 'ERR_CAMTRACK_INTERNAL'
  | 'ERR_CAMTRACK_UNAUTHORIZED'
  | 'ERR_CAMTRACK_NOT_FOUND'
  | 'ERR_CAMTRACK_CONFLICT'
  | 'ERR_CAMTRACK_BAD_REQUEST'
  | 'ERR_CAMTRACK_SNAPSHOT_TIMEOUT'
  | 'ERR_CAMTRACK_RATE_LIMITED'
  | 'ERR_CAMTRACK_WEBHOOK'
  | 'ERR_CAMTRACK_MQTT'
  | 'ERR_CAMTRACK_OUTPUT';

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

/**
 * `of type number` style description used in argument errors (sharp's shape). Strings are shown with the secrets
 * of any URL in them redacted ({@link redactSecretsIn}): a config error quoting a stream URL must not print its
 * password (`streams[0]: Expected object with id and url but received "rtsp://***@cam/1" of type string`).
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  const type = Array.isArray(value) ? 'array' : typeof value;
  let shown: string;
  try {
    // String values are redacted before JSON escaping (the same text the native side would see); the last pass
    // catches URLs in object keys.
    shown =
      typeof value === 'string' || type === 'object' || type === 'array'
        ? JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? redactSecretsIn(v) : v))
        : String(value);
  } catch {
    shown = String(value);
  }
  // Redact before shortening: a cut after the password but before its '@' would no longer look like user-info.
  shown = redactSecretsIn(shown);
  if (shown.length > 80) shown = shown.slice(0, 77) + '...';
  return `${shown} of type ${type}`;
}

const URL_END = ' \t\r\n"\'';
const SECRET_KEYS = [
  'token=',
  'access_token=',
  'password=',
  'passwd=',
  'pass=',
  'key=',
  'api_key=',
  'apikey=',
  'secret=',
  'signature=',
  'auth=',
] as const;

/** Position of `lowerKey` (lower-case ASCII) in `text` at or after `from`, ignoring ASCII case; -1 when absent. */
function findNoCase(text: string, lowerKey: string, from: number): number {
  for (let i = from; i + lowerKey.length <= text.length; i++) {
    let j = 0;
    for (; j < lowerKey.length; j++) {
      let c = text.charCodeAt(i + j);
      if (c >= 65 && c <= 90) c += 32;
      if (c !== lowerKey.charCodeAt(j)) break;
    }
    if (j === lowerKey.length) return i;
  }
  return -1;
}

/** Index of the first character of `chars` in `text` at or after `from`, or text.length (find_first_of + min). */
function firstOf(text: string, chars: string, from: number): number {
  for (let i = from; i < text.length; i++) if (chars.includes(text[i]!)) return i;
  return text.length;
}

/**
 * Redacts the secrets of every URL inside free text: the user-info of each `scheme://user:pass@host` (up to the
 * LAST '@' before the path, since a password may itself contain '@') and the values of query parameters named
 * like secrets (SECRET_KEYS, in any case). A URL ends at
 * whitespace or a quote. A line-for-line port of the native RedactSecretsIn (native/core/common/redact.h), so a
 * URL reads the same in messages from either side; keep the two in step (test/unit/redact.test.ts holds the
 * native test's cases).
 */
export function redactSecretsIn(text: string): string {
  let pos = 0;
  while ((pos = text.indexOf('://', pos)) !== -1) {
    const hostStart = pos + 3;
    const urlEnd = firstOf(text, URL_END, hostStart);
    const pathStart = Math.min(firstOf(text, '/?#', hostStart), urlEnd);
    let at = text.lastIndexOf('@', pathStart);
    if (at === -1 || at < hostStart) {
      // No '@' before the first '/', '?' or '#', yet the text before it has a ':' (not an IPv6 literal) and the URL
      // has an '@' further on: a password with an unencoded '/', '?' or '#' (`rtsp://admin:pa/ss@cam/1`). The
      // user-info then runs to the URL's last '@'. This redacts too much when a host:port URL has an '@' in its
      // path (`http://cam:8080/a@b` → `http://***@b`), and never leaks a part of such a password.
      const colon = text.indexOf(':', hostStart);
      const lastAt = urlEnd > hostStart ? text.lastIndexOf('@', urlEnd - 1) : -1;
      if (text[hostStart] !== '[' && colon !== -1 && colon < pathStart && lastAt !== -1 && lastAt > pathStart) at = lastAt;
    }
    if (at !== -1 && at >= hostStart) {
      text = text.slice(0, hostStart) + '***' + text.slice(at);
      pos = hostStart + 3;
    } else {
      pos = hostStart;
    }
  }
  for (const key of SECRET_KEYS) {
    let kpos = 0;
    while ((kpos = findNoCase(text, key, kpos)) !== -1) {
      // Only a whole parameter name: `monkey=` is not `key=`.
      if (kpos > 0 && text[kpos - 1] !== '?' && text[kpos - 1] !== '&') {
        kpos += key.length;
        continue;
      }
      const v = kpos + key.length;
      const end = firstOf(text, '&#' + URL_END, v);
      text = text.slice(0, v) + '***' + text.slice(end);
      kpos = v + 3;
    }
  }
  return text;
}

/**
 * Removes credentials from a URL for messages: `rtsp://user:p@ss@host/s?token=t` → `rtsp://***@host/s?token=***`.
 * Same result as the native RedactUrl (see {@link redactSecretsIn}).
 */
export function redactUrl(url: string): string {
  return redactSecretsIn(url);
}
