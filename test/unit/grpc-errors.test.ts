// camtrack errors as gRPC statuses (src/server/grpc/errors.ts): the status from camtrack's code, the code and hint in
// the trailing metadata. gRPC metadata values are printable ASCII only: a hint with other characters must still go
// out (grpc-js throws on such a value, which ended the call UNKNOWN "Unknown error" instead of carrying the error).
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { CamtrackError } from '../../src/errors.js';
import { asciiMetadata, grpcStatusOf, toServiceError } from '../../src/server/grpc/errors.js';

describe('toServiceError', () => {
  it('maps camtrack codes to statuses', () => {
    expect(grpcStatusOf('ERR_CAMTRACK_NOT_FOUND')).toBe(grpc.status.NOT_FOUND);
    expect(grpcStatusOf('ERR_CAMTRACK_INVALID_STATE')).toBe(grpc.status.FAILED_PRECONDITION);
    expect(grpcStatusOf('ERR_CAMTRACK_SESSION_LIMIT')).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(grpcStatusOf('ERR_CAMTRACK_RATE_LIMITED')).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(grpcStatusOf('ERR_CAMTRACK_MODEL')).toBe(grpc.status.INTERNAL);
    expect(grpcStatusOf(undefined)).toBe(grpc.status.INTERNAL);
  });

  it('EXPECTED FAILURE - a hint with non-ASCII characters becomes printable ASCII that grpc-js accepts', () => {
    const err = new CamtrackError('camera "x" has no analytics section', 'ERR_CAMTRACK_INVALID_STATE', {
      hint: 'PATCH /api/v1/cameras/{id} with {"analytics": {…}} — see docs/analytics.md',
    });
    const e = toServiceError(err);
    expect(e.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(e.details).toBe('[ERR_CAMTRACK_INVALID_STATE] camera "x" has no analytics section');
    expect(e.metadata!.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_INVALID_STATE']);
    expect(e.metadata!.get('camtrack-error-hint')).toEqual(['PATCH /api/v1/cameras/{id} with {"analytics": {...}} ? see docs/analytics.md']);
    // What grpc-js does with the raw hint: it throws.
    expect(() => new grpc.Metadata().set('camtrack-error-hint', err.hint!)).toThrow(/illegal characters/);
  });

  it('asciiMetadata keeps printable ASCII as it is', () => {
    const s = 'give metadata `authorization: Bearer <token>`; 0-9 a-z ~!';
    expect(asciiMetadata(s)).toBe(s);
    expect(asciiMetadata('tab\there\nnewline')).toBe('tab?here?newline');
  });

  it('an error that is not camtrack\'s is INTERNAL with ERR_CAMTRACK_INTERNAL', () => {
    const e = toServiceError(new TypeError('boom'));
    expect(e.code).toBe(grpc.status.INTERNAL);
    expect(e.metadata!.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_INTERNAL']);
  });
});
