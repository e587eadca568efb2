import { apiTokenIssued, apiTokenRevoked, principalCreated, principalDisabled, principalEnabled, principalRoleChanged } from '@lib/domain/testing/access.fixtures';
import { generateApiToken } from './api-tokens';
import { AuthenticationError } from './auth.errors';
import { bearerTokenOf, TokenVerifier } from './token-verifier';
import { FakeClock, PrincipalStreams } from './testing/principal-streams';

const NOW = Date.parse('2026-11-16T12:00:00.000Z');

const setUp = () => {
  const streams = new PrincipalStreams();
  const clock = new FakeClock(NOW);
  const token = generateApiToken('ci-acme');
  streams.append(principalCreated(), apiTokenIssued({ tokenId: token.tokenId, hash: token.hash, expiresAt: new Date(NOW + 1000).toISOString() }));
  return { streams, clock, token, verifier: new TokenVerifier(streams.asEventStore(), clock) };
};

const failureOf = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuthenticationError);
    return (error as AuthenticationError).code;
  }
  throw new Error('expected an AuthenticationError');
};

describe('bearer token of an Authorization header', () => {
  it.each([[undefined, 'missing-token'], ['', 'missing-token'], [['Bearer a', 'Bearer b'], 'malformed-token'], ['Token abc', 'malformed-token'], ['Bearer  abc', 'malformed-token']] as const)(
    'given %j, refuses with %s',
    (header, code) => {
      expect(() => bearerTokenOf(header)).toThrow(expect.objectContaining({ code }));
    },
  );

  it('gives the token after the scheme, in any case', () => {
    expect(bearerTokenOf('BEARER abc.def')).toBe('abc.def');
  });
});

describe('token verifier', () => {
  it('gives the principal of a valid token, with its role and orgs as its stream has them now', async () => {
    const { verifier, token, streams } = setUp();
    expect(await verifier.verify(`Bearer ${token.token}`)).toEqual({ id: 'ci-acme', role: 'builder', orgs: ['acme'] });
    streams.append(principalRoleChanged());
    expect(await verifier.verify(`Bearer ${token.token}`)).toEqual({ id: 'ci-acme', role: 'viewer', orgs: ['acme', 'globex'] });
  });

  it('refuses, as invalid-token alike, a revoked token, a disabled principal, an expired token, a wrong secret, an unknown principal or token', async () => {
    const { verifier, token, streams, clock } = setUp();
    const bearer = `Bearer ${token.token}`;
    expect(await failureOf(verifier.verify(`Bearer ${token.token.slice(0, -2)}AA`))).toBe('invalid-token');
    expect(await failureOf(verifier.verify(`Bearer ${generateApiToken('ci-acme').token}`))).toBe('invalid-token');
    expect(await failureOf(verifier.verify(`Bearer ${generateApiToken('nobody').token}`))).toBe('invalid-token');
    streams.append(principalDisabled());
    expect(await failureOf(verifier.verify(bearer))).toBe('invalid-token');
    streams.append(principalEnabled());
    await verifier.verify(bearer);
    clock.advance(1000);
    expect(await failureOf(verifier.verify(bearer))).toBe('invalid-token');
    clock.advance(-1000);
    streams.append(apiTokenRevoked({ tokenId: token.tokenId }));
    expect(await failureOf(verifier.verify(bearer))).toBe('invalid-token');
  });

  it('refuses a malformed token without reading any stream', async () => {
    const { verifier, streams } = setUp();
    expect(await failureOf(verifier.verify('Bearer bo.ci-acme.nothex.secret'))).toBe('malformed-token');
    expect(await failureOf(verifier.verify(undefined))).toBe('missing-token');
    expect(streams.reads).toBe(0);
  });

  it('never puts the token in its errors', async () => {
    const { verifier, token } = setUp();
    const wrong = `${token.token.slice(0, -2)}AA`;
    await verifier.verify(`Bearer ${wrong}`).catch((error: Error) => {
      expect(`${error.message} ${error.stack} ${JSON.stringify(error)}`).not.toContain(wrong.split('.')[3]);
    });
  });
});
