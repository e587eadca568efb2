import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiJsonResponse, ApiProblem, ApiProblems, integerSchema, objectSchema, stringSchema, timeSchema } from '@lib/shared';

/** The OpenAPI description of the registry's token endpoint (registry-token.controller.ts). */
export const RegistryTokenDocs = {
  token: () => applyDecorators(
    ApiTags('registry'),
    ApiOperation({
      summary: 'Issue a registry token (Docker token authentication)',
      description: 'Called by the Docker engine, not by people: it presents a build\'s access key with HTTP Basic and gets a short-lived JWT granting only what that key allows on the scopes asked for. Not an API-token route.',
    }),
    ApiHeader({ name: 'Authorization', required: true, description: 'Basic base64(<accessKeyId>:<secret>): a build\'s access key.' }),
    ApiQuery({ name: 'service', required: true, description: 'Must be REGISTRY_SERVICE.', schema: { type: 'string' }, example: 'build-orchestrator-registry' }),
    ApiQuery({ name: 'scope', required: false, description: 'One or more resource scopes, e.g. repository:acme/hello:push,pull (repeat the parameter or separate with spaces).', schema: { type: 'string' }, example: 'repository:acme/hello:push,pull' }),
    ApiJsonResponse(200, 'A JWT for the registry (sent with Cache-Control: no-store).', objectSchema({
      token: stringSchema('An RS256 JWT with the granted `access`.'),
      access_token: stringSchema('The same token (OAuth2 spelling).'),
      expires_in: integerSchema('Seconds it is valid (REGISTRY_TOKEN_TTL_SECONDS).'),
      issued_at: timeSchema(),
    }), { token: 'eyJhbGciOiJSUzI1NiIs…', access_token: 'eyJhbGciOiJSUzI1NiIs…', expires_in: 300, issued_at: '2026-11-16T09:00:00.000Z' }),
    ApiProblems(400),
    ApiProblem(401, { code: 'registry-credentials-refused', detail: 'The access key is unknown, expired or revoked', description: 'No HTTP Basic access key, or one that is unknown, expired or revoked (WWW-Authenticate: Basic).' }),
  ),
};
