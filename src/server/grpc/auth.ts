/**
 * The gRPC side of serve's token: `authorization: Bearer <token>` metadata, compared as the HTTP hook does
 * (tokenMatches, constant time). Every method but grpc.health.v1 needs it; without or with a wrong one the call ends
 * UNAUTHENTICATED with camtrack-error-code ERR_CAMTRACK_UNAUTHORIZED. The token is never logged or echoed.
 */
import type * as grpc from '@grpc/grpc-js';
import { CamtrackError } from '../../errors.js';
import { tokenMatches } from '../auth.js';

/** Throws ERR_CAMTRACK_UNAUTHORIZED when a token is set and the call's metadata does not carry it. */
export function checkToken(metadata: grpc.Metadata, token: string | undefined): void {
  if (token === undefined) return;
  const header = metadata.get('authorization')[0];
  const given = typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
  if (given !== undefined && tokenMatches(given, token)) return;
  throw new CamtrackError('missing or wrong token', 'ERR_CAMTRACK_UNAUTHORIZED', {
    stage: 'grpc',
    hint: 'send metadata `authorization: Bearer <token>`; the token is the one camtrack serve was started with (--token or CAMTRACK_TOKEN)',
  });
}
