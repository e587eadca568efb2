import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { PRINCIPAL_ID_PATTERN, ROLES, TOKEN_ID_PATTERN } from '@lib/domain';
import { ApiJsonResponse, ApiProblem, ApiProblems, enumSchema, nullable, objectSchema, SchemaObject, stringSchema, timeSchema } from '@lib/shared';
import { IssueTokenDto, ReasonDto } from './principal.dto';

/** The OpenAPI description of the admin API (principals.controller.ts). */

const token: SchemaObject = objectSchema({
  tokenId: stringSchema('16 lower-case hex digits; the token itself is never shown again.', { pattern: TOKEN_ID_PATTERN.source }),
  label: nullable(stringSchema()),
  issuedAt: timeSchema(),
  issuedBy: stringSchema('The admin who issued it.'),
  expiresAt: nullable(timeSchema('null: it does not expire.')),
  revoked: { type: 'boolean' },
  revokedAt: nullable(timeSchema()),
  revokedBy: nullable(stringSchema()),
  revokeReason: nullable(stringSchema()),
});

const principal: SchemaObject = objectSchema({
  id: stringSchema(undefined, { pattern: PRINCIPAL_ID_PATTERN.source }),
  role: enumSchema(ROLES),
  orgs: { type: 'array', items: stringSchema(), description: 'The orgs of a builder or viewer (["*"] for every org); empty for other roles.' },
  description: nullable(stringSchema()),
  status: enumSchema(['enabled', 'disabled']),
  createdAt: timeSchema(),
  createdBy: stringSchema(),
  disabledAt: nullable(timeSchema()),
  disabledBy: nullable(stringSchema()),
  disabledReason: nullable(stringSchema()),
  tokens: { type: 'array', items: token },
});

const principalExample = {
  id: 'ci-acme', role: 'builder', orgs: ['acme'], description: 'CI of acme', status: 'enabled', createdAt: '2026-11-16T08:00:00.000Z', createdBy: 'admin',
  disabledAt: null, disabledBy: null, disabledReason: null,
  tokens: [{ tokenId: '3f9a0c1b2d4e5f60', label: 'ci', issuedAt: '2026-11-16T08:00:01.000Z', issuedBy: 'admin', expiresAt: null, revoked: false, revokedAt: null, revokedBy: null, revokeReason: null }],
};

const principalId = () => ApiParam({ name: 'principalId', description: 'The principal\'s id: 1 to 63 lower-case letters, digits, _ or -, starting with a letter or digit.', schema: { type: 'string', pattern: PRINCIPAL_ID_PATTERN.source }, example: 'ci-acme' });
const notFound = () => ApiProblem(404, { code: 'principal-not-found', detail: 'Principal ci-acme does not exist', description: 'No principal with this id.' });

const command = (summary: string, description: string, conflicts: string) => applyDecorators(
  ApiOperation({ summary, description }),
  principalId(),
  ApiJsonResponse(200, 'The principal after the change.', principal, principalExample),
  ApiProblems(400, 503),
  notFound(),
  ApiProblem(409, { code: 'illegal-transition', detail: conflicts, description: conflicts }),
);

export const PrincipalsDocs = {
  controller: () => ApiTags('principals'),

  create: () => applyDecorators(
    ApiOperation({ summary: 'Create a principal', description: 'Appends PrincipalCreated with the acting admin. Builders and viewers need orgs (slugs, or "*" alone); other roles take none.' }),
    ApiJsonResponse(201, 'The new principal (no token yet: issue one).', principal, { ...principalExample, tokens: [] }),
    ApiProblems(400, 503),
    ApiProblem(409, { code: 'principal-already-exists', detail: 'Principal ci-acme already exists', description: 'The id is taken.' }),
  ),

  list: () => applyDecorators(
    ApiOperation({ summary: 'List principals', description: 'Every principal with its role, orgs, status and tokens (ids only).' }),
    ApiJsonResponse(200, 'Every principal.', objectSchema({ items: { type: 'array', items: principal } }), { items: [principalExample] }),
  ),

  get: () => applyDecorators(
    ApiOperation({ summary: 'Get a principal', description: 'One principal with its role, orgs, status and tokens (ids only).' }),
    principalId(),
    ApiJsonResponse(200, 'The principal.', principal, principalExample),
    ApiProblems(400),
    notFound(),
  ),

  changeRole: () => command('Change a principal\'s role', 'Appends PrincipalRoleChanged: the new role and orgs apply to its next request.', 'An admin tried to change its own role, or the principal is disabled.'),
  disable: () => applyDecorators(ApiBody({ type: ReasonDto, required: false }), command('Disable a principal', 'Appends PrincipalDisabled: its tokens stop working at once (401).', 'An admin tried to disable itself.')),
  enable: () => applyDecorators(ApiBody({ type: ReasonDto, required: false }), command('Enable a principal', 'Appends PrincipalEnabled: its unrevoked, unexpired tokens work again.', 'The command conflicts with the principal\'s state.')),

  issueToken: () => applyDecorators(
    ApiOperation({ summary: 'Issue an API token', description: 'Appends ApiTokenIssued (with the token\'s hash, never the token). This response is the only place the token ever appears; it is sent with Cache-Control: no-store.' }),
    principalId(),
    ApiBody({ type: IssueTokenDto, required: false }),
    ApiJsonResponse(201, 'The token, once.', objectSchema({
      token: stringSchema('bo.<principalId>.<tokenId>.<secret>: send it as Authorization: Bearer <token>.'),
      tokenId: stringSchema(undefined, { pattern: TOKEN_ID_PATTERN.source }),
      principalId: stringSchema(),
      expiresAt: nullable(timeSchema()),
    }), { token: 'bo.ci-acme.3f9a0c1b2d4e5f60.q8Zt…', tokenId: '3f9a0c1b2d4e5f60', principalId: 'ci-acme', expiresAt: '2027-02-14T08:00:00.000Z' }),
    ApiProblems(400, 503),
    notFound(),
    ApiProblem(409, { code: 'principal-disabled', detail: 'Principal ci-acme is disabled', description: 'The principal is disabled.' }),
  ),

  revokeToken: () => applyDecorators(
    ApiBody({ type: ReasonDto, required: false }),
    command('Revoke an API token', 'Appends ApiTokenRevoked: the token stops working at once (401).', 'The command conflicts with the principal\'s state.'),
    ApiParam({ name: 'tokenId', description: 'The token\'s id: 16 lower-case hex digits (the third part of the token).', schema: { type: 'string', pattern: TOKEN_ID_PATTERN.source }, example: '3f9a0c1b2d4e5f60' }),
    ApiProblem(404, { code: 'api-token-not-found', detail: 'Principal ci-acme has no token 3f9a0c1b2d4e5f60', description: 'No such principal, or no such token of it.' }),
  ),
};
