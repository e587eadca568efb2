import { Inject, Injectable } from '@nestjs/common';
import { AccessEvent, credentialsOf, foldPrincipal, Principal, principalStream, tokenStanding } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { Clock } from '../ports/clock';
import { MAX_API_TOKEN_LENGTH, parseApiToken, secretMatchesHash } from './api-tokens';
import { AuthenticationError } from './auth.errors';

/** `Bearer <token>`; the scheme is case-insensitive (RFC 9110), one space, and nothing after the token. */
const BEARER = /^Bearer ([^\s]+)$/i;
/** Compared against when there is no stored hash, so that an unknown token costs what a wrong one does. */
const NO_HASH = '0'.repeat(64);

/** The token in an Authorization header value, or a typed refusal. Nothing of the value ever reaches an error. */
export const bearerTokenOf = (authorization: string | readonly string[] | undefined): string => {
  if (authorization === undefined || authorization === '') throw new AuthenticationError('missing-token');
  if (typeof authorization !== 'string' || authorization.length > MAX_API_TOKEN_LENGTH + 'Bearer '.length) throw new AuthenticationError('malformed-token');
  const match = BEARER.exec(authorization);
  if (!match) throw new AuthenticationError('malformed-token');
  return match[1];
};

/**
 * Turns an Authorization header into the principal it authenticates. Reads the principal's stream on
 * every request, so that a revocation, a disabling or a role change holds at once in every app
 * (a principal's stream is a few events: one indexed read).
 */
@Injectable()
export class TokenVerifier {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  /** The principal, or AuthenticationError: missing-token, malformed-token, or invalid-token for any other refusal. */
  async verify(authorization: string | readonly string[] | undefined): Promise<Principal> {
    const parts = parseApiToken(bearerTokenOf(authorization));
    if (!parts) throw new AuthenticationError('malformed-token');
    const events = (await this.store.readStream(principalStream(parts.principalId))) as unknown as AccessEvent[];
    const standing = tokenStanding(credentialsOf(foldPrincipal(events)), parts.tokenId, this.clock.now().toISOString());
    const matches = secretMatchesHash(parts.secret, standing.usable ? standing.hash : NO_HASH);
    if (!standing.usable || !matches) throw new AuthenticationError('invalid-token');
    return standing.principal;
  }
}
