import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AppConfig, Clock, HttpProblem, Public } from '@lib/shared';
import { AccessKeys } from './access-keys';
import { grantAccess, parseScopes } from './registry-scope';
import { RegistryTokenDocs } from './registry-token.openapi';
import { RegistryTokenSigner } from './registry-token.signer';

const unauthorized = (detail: string): HttpProblem =>
  new HttpProblem(401, 'registry-credentials-refused', 'Unauthorized', detail, undefined, {
    'www-authenticate': 'Basic realm="build-orchestrator registry token"',
  });

const basicCredentials = (header: string | undefined): { username: string; password: string } | null => {
  const match = /^Basic ([A-Za-z0-9+/=]{1,1024})$/.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : null;
};

/**
 * The registry's token endpoint (Docker distribution token authentication): the engine presents a
 * build's access key with HTTP Basic; the answer is a short-lived JWT granting only what that key
 * allows on the scopes asked for.
 */
@Controller('registry')
export class RegistryTokenController {
  constructor(
    private readonly keys: AccessKeys,
    private readonly signer: RegistryTokenSigner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /** Public as far as API tokens go: the engine authenticates here with a build's access key (HTTP Basic). */
  @Get('token')
  @Public()
  @RegistryTokenDocs.token()
  token(
    @Headers('authorization') authorization: string | undefined,
    @Query('service') service: unknown,
    @Query('scope') scope: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): { token: string; access_token: string; expires_in: number; issued_at: string } {
    if (service !== this.config.REGISTRY_SERVICE) {
      throw new HttpProblem(400, 'validation', 'Invalid request', `service must be ${this.config.REGISTRY_SERVICE}`, [{ field: 'service', message: 'unknown service' }]);
    }
    const credentials = basicCredentials(authorization);
    if (!credentials) throw unauthorized('Present a build access key with HTTP Basic authentication');
    const now = this.clock.now();
    const grant = this.keys.verify(credentials.username, credentials.password, now);
    if (!grant) throw unauthorized('The access key is unknown, expired or revoked');
    const scopes = (Array.isArray(scope) ? scope : scope === undefined ? [] : [scope]).filter((s): s is string => typeof s === 'string');
    const signed = this.signer.sign(credentials.username, grantAccess(grant, parseScopes(scopes.flatMap((s) => s.split(' ')))), now, this.config.REGISTRY_TOKEN_TTL_SECONDS);
    void reply.header('cache-control', 'no-store');
    return { token: signed.token, access_token: signed.token, expires_in: signed.expiresIn, issued_at: signed.issuedAt };
  }
}
