import { createHash } from 'node:crypto';
import { API_TOKEN_PREFIX, generateApiToken, hashTokenSecret, MAX_API_TOKEN_LENGTH, parseApiToken, secretMatchesHash } from './api-tokens';

const SECRET = 'q83vEjRgHgLdY5u2b1vQ2o4T8mJ0k7nXpA9sZcW6e1U';

describe('API tokens', () => {
  it('generates bo.<principalId>.<tokenId>.<secret> with a 16-hex-digit id and 32 random bytes of secret, and the hash of the secret', () => {
    const generated = generateApiToken('ci-acme');
    const [prefix, principalId, tokenId, secret] = generated.token.split('.');
    expect(prefix).toBe(API_TOKEN_PREFIX);
    expect(principalId).toBe('ci-acme');
    expect(tokenId).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(generated).toEqual({ token: generated.token, principalId: 'ci-acme', tokenId, hash: createHash('sha256').update(secret).digest('hex') });
    expect(generated.token.length).toBeLessThanOrEqual(MAX_API_TOKEN_LENGTH);
  });

  it('takes its randomness from the source given, and differs every time from the real one', () => {
    const zeros = (size: number) => Buffer.alloc(size);
    expect(generateApiToken('p', zeros).token).toBe(`bo.p.0000000000000000.${'A'.repeat(43)}`);
    const tokens = new Set(Array.from({ length: 50 }, () => generateApiToken('p').token));
    expect(tokens.size).toBe(50);
  });

  it('refuses to make a token for something that is not a principal id', () => {
    expect(() => generateApiToken('a.b')).toThrow(/not a principal id/);
  });

  it('parses what it generates', () => {
    const { token, tokenId } = generateApiToken('admin');
    expect(parseApiToken(token)).toEqual({ principalId: 'admin', tokenId, secret: token.split('.')[3] });
  });

  it.each([
    ['empty', ''],
    ['another prefix', `xx.admin.0123456789abcdef.${SECRET}`],
    ['an upper-case prefix', `BO.admin.0123456789abcdef.${SECRET}`],
    ['a principal id with capitals', `bo.Admin.0123456789abcdef.${SECRET}`],
    ['an empty principal id', `bo..0123456789abcdef.${SECRET}`],
    ['a short token id', `bo.admin.0123456789abcde.${SECRET}`],
    ['an upper-case token id', `bo.admin.0123456789ABCDEF.${SECRET}`],
    ['a short secret', `bo.admin.0123456789abcdef.${SECRET.slice(1)}`],
    ['a long secret', `bo.admin.0123456789abcdef.${SECRET}A`],
    ['a padded secret', `bo.admin.0123456789abcdef.${SECRET.slice(2)}==`],
    ['base64 (not url) characters', `bo.admin.0123456789abcdef.${SECRET.slice(1)}+`],
    ['a fifth part', `bo.admin.0123456789abcdef.${SECRET}.x`],
    ['spaces', ` bo.admin.0123456789abcdef.${SECRET}`],
    ['something very long', `bo.${'a'.repeat(5000)}.0123456789abcdef.${SECRET}`],
  ])('finds no token in %s', (_, token) => {
    expect(parseApiToken(token)).toBeNull();
  });

  it('matches a secret with its hash, and nothing else', () => {
    const hash = hashTokenSecret(SECRET);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(secretMatchesHash(SECRET, hash)).toBe(true);
    expect(secretMatchesHash(`${SECRET.slice(0, -1)}V`, hash)).toBe(false);
    expect(secretMatchesHash(SECRET, '0'.repeat(64))).toBe(false);
    expect(secretMatchesHash(SECRET, 'not hex')).toBe(false);
    expect(secretMatchesHash(SECRET, hash.slice(2))).toBe(false);
  });
});
