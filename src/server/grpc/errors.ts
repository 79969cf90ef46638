/**
 * camtrack errors as gRPC statuses: the status code from the ERR_CAMTRACK_* code, and camtrack's code and hint in the
 * trailing metadata (`camtrack-error-code`, `camtrack-error-hint`) so a client reads them as it reads the HTTP error
 * body's. Messages are the errors' own (redacted where they carry URLs).
 */
import * as grpc from '@grpc/grpc-js';

const BY_CODE: Record<string, grpc.status> = {
  ERR_CAMTRACK_INVALID_CONFIG: grpc.status.INVALID_ARGUMENT,
  ERR_CAMTRACK_INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  ERR_CAMTRACK_BAD_REQUEST: grpc.status.INVALID_ARGUMENT,
  ERR_CAMTRACK_BAD_FRAME: grpc.status.INVALID_ARGUMENT,
  ERR_CAMTRACK_DECODE: grpc.status.INVALID_ARGUMENT,
  ERR_CAMTRACK_UNAUTHORIZED: grpc.status.UNAUTHENTICATED,
  ERR_CAMTRACK_NOT_FOUND: grpc.status.NOT_FOUND,
  ERR_CAMTRACK_CONFLICT: grpc.status.ALREADY_EXISTS,
  ERR_CAMTRACK_INVALID_STATE: grpc.status.FAILED_PRECONDITION,
  ERR_CAMTRACK_RATE_LIMITED: grpc.status.RESOURCE_EXHAUSTED,
  ERR_CAMTRACK_SESSION_LIMIT: grpc.status.RESOURCE_EXHAUSTED,
  ERR_CAMTRACK_DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
};

export interface CamtrackLikeError {
  message: string;
  code?: string;
  hint?: string;
}

/** The gRPC status of a camtrack error code (INTERNAL for codes without a closer status). */
export function grpcStatusOf(code: string | undefined): grpc.status {
  return (code !== undefined ? BY_CODE[code] : undefined) ?? grpc.status.INTERNAL;
}

/**
 * A text metadata value: gRPC allows printable ASCII only (grpc-js throws on anything else, which failed the call
 * UNKNOWN instead of carrying the error): '…' becomes '...', other characters '?'.
 */
export function asciiMetadata(s: string): string {
  return s.replace(/\u2026/g, '...').replace(/[^\x20-\x7e]/g, '?');
}

/** A ServiceError to hand to a unary callback or emit on a stream. */
export function toServiceError(err: unknown): Partial<grpc.StatusObject> & Error {
  const e = err as CamtrackLikeError;
  const code = typeof e.code === 'string' && e.code.startsWith('ERR_CAMTRACK_') ? e.code : 'ERR_CAMTRACK_INTERNAL';
  const metadata = new grpc.Metadata();
  metadata.set('camtrack-error-code', code);
  if (typeof e.hint === 'string') metadata.set('camtrack-error-hint', asciiMetadata(e.hint));
  const out = new Error(e.message ?? String(err)) as Error & Partial<grpc.StatusObject>;
  out.code = grpcStatusOf(code);
  out.details = `[${code}] ${e.message ?? String(err)}`;
  out.metadata = metadata;
  return out;
}
