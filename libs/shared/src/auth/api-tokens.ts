import { PRINCIPAL_ID_PATTERN, TOKEN_ID_PATTERN } from '@lib/domain';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API tokens: `bo.<principalId>.<tokenId>.<secret>`. The principal and token ids say where to look;
 * only the secret (32 random bytes, base64url) proves anything, and only its SHA-256 is ever stored.
 * A token is shown once, to whoever asked for it.
 */

export const API_TOKEN_PREFIX = 'bo';
const SECRET_BYTES = 32;
/** 32 bytes in base64url without padding. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Longest possible token: prefix, a 63-character principal id, the token id, the secret and three dots. */
export const MAX_API_TOKEN_LENGTH = API_TOKEN_PREFIX.length + 63 + 16 + 43 + 3;

export type ApiTokenParts = Readonly<{ principalId: string; tokenId: string; secret: string }>;

/** A new token and what may be recorded of it. `token` goes to its holder and nowhere else. */
export type GeneratedApiToken = Readonly<{ token: string; principalId: string; tokenId: string; hash: string }>;

export type RandomBytes = (size: number) => Buffer;

/** SHA-256 (hex) of a token's secret: what ApiTokenIssued records. */
export const hashTokenSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

export const generateApiToken = (principalId: string, random: RandomBytes = randomBytes): GeneratedApiToken => {
  if (!PRINCIPAL_ID_PATTERN.test(principalId)) throw new Error(`not a principal id: ${JSON.stringify(principalId)}`);
  const tokenId = random(8).toString('hex');
  const secret = random(SECRET_BYTES).toString('base64url');
  return { token: `${API_TOKEN_PREFIX}.${principalId}.${tokenId}.${secret}`, principalId, tokenId, hash: hashTokenSecret(secret) };
};

/** The parts of a well-formed token, or null for anything else (no partial answers: which part is wrong is nobody's business). */
export const parseApiToken = (token: string): ApiTokenParts | null => {
  if (typeof token !== 'string' || token.length > MAX_API_TOKEN_LENGTH) return null;
  const parts = token.split('.');
  if (parts.length !== 4) return null;
  const [prefix, principalId, tokenId, secret] = parts;
  if (prefix !== API_TOKEN_PREFIX || !PRINCIPAL_ID_PATTERN.test(principalId) || !TOKEN_ID_PATTERN.test(tokenId) || !SECRET_PATTERN.test(secret)) return null;
  return { principalId, tokenId, secret };
};

/** Whether `secret` hashes to `expectedHash`, in time that does not depend on where they differ. */
export const secretMatchesHash = (secret: string, expectedHash: string): boolean => {
  const actual = createHash('sha256').update(secret, 'utf8').digest();
  const expected = Buffer.from(expectedHash, 'hex');
  // Only a stored hash that is not a SHA-256 digest has another length (the decider records none such).
  return expected.length === actual.length && timingSafeEqual(actual, expected);
};
