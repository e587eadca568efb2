import { createPrivateKey, createSign, KeyObject, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Access } from './registry-scope';

export type SignerOptions = Readonly<{ keyPem: string; certPem: string; issuer: string; audience: string }>;

const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/**
 * Signs registry bearer tokens: RS256 JWTs whose header carries the signing certificate (x5c),
 * which the registry checks against its rootcertbundle.
 */
export class RegistryTokenSigner {
  private readonly key: KeyObject;
  private readonly x5c: string;

  constructor(private readonly options: SignerOptions) {
    this.key = createPrivateKey(options.keyPem);
    this.x5c = new X509Certificate(options.certPem).raw.toString('base64');
  }

  static fromFiles(paths: { key: string; cert: string }, names: { issuer: string; audience: string }): RegistryTokenSigner {
    return new RegistryTokenSigner({ keyPem: readFileSync(paths.key, 'utf8'), certPem: readFileSync(paths.cert, 'utf8'), ...names });
  }

  sign(subject: string, access: readonly Access[], now: Date, ttlSeconds: number): { token: string; expiresIn: number; issuedAt: string } {
    const iat = Math.floor(now.getTime() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [this.x5c] };
    const claims = { iss: this.options.issuer, sub: subject, aud: this.options.audience, exp: iat + ttlSeconds, nbf: iat - 5, iat, jti: randomUUID(), access };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(this.key);
    return { token: `${signingInput}.${base64url(signature)}`, expiresIn: ttlSeconds, issuedAt: now.toISOString() };
  }
}
