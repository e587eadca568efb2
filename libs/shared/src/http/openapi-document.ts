import { INestApplication, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Permission, ROLE_PERMISSIONS, Role } from '@lib/domain';
import { RouteAccess, routeAccessOf } from '../auth/access.guard';
import { BEARER_SCHEME, FieldProblemDto, ProblemDetailsDto, problemResponse, ProblemStatus } from './openapi';

export type OpenApiInfo = Readonly<{ title: string; description: string; version: string }>;

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

/** Operation ids are `Controller_handler`, so each operation can be traced back to the handler that declares its access. */
export const operationIdOf = (controllerKey: string, methodKey: string): string => `${controllerKey}_${methodKey}`;

/** The roles that have every one of `permissions`. */
const rolesGranting = (permissions: readonly Permission[]): Role[] =>
  (Object.keys(ROLE_PERMISSIONS) as Role[]).filter((role) => permissions.every((permission) => ROLE_PERMISSIONS[role].includes(permission)));

/** Every handler of `controllers` by operation id → what it declares, read as the access guard reads it. */
const accessByOperation = (controllers: readonly Type[]): Map<string, RouteAccess> => {
  const reflector = new Reflector();
  const access = new Map<string, RouteAccess>();
  for (const controller of controllers) {
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = controller.prototype[name] as unknown;
      if (name === 'constructor' || typeof handler !== 'function') continue;
      access.set(operationIdOf(controller.name, name), routeAccessOf(reflector, handler, controller));
    }
  }
  return access;
};

const withLine = (description: string | undefined, line: string): string => (description ? `${description}\n\n${line}` : line);

/** Adds the bearer requirement, `x-permissions`, a line saying who may call it, and its 401/403/429 problems. */
const describeAccess = (operation: Operation, access: RouteAccess | undefined): void => {
  if (access?.kind === 'public') {
    operation.security = [];
    operation.description = withLine(operation.description, '**Access:** public, no token needed.');
    return;
  }
  const permissions = access?.kind === 'permit' ? access.permissions : [];
  const roles = rolesGranting(permissions);
  operation.security = [{ [BEARER_SCHEME]: [] }];
  Object.assign(operation, { 'x-permissions': [...permissions] });
  operation.description = withLine(operation.description, permissions.length > 0
    ? `**Access:** an API token whose role grants ${permissions.map((p) => `\`${p}\``).join(' and ')} (${roles.length > 0 ? `roles: ${roles.join(', ')}` : 'no role grants all of them'}).`
    : '**Access:** refused to everyone (the route declares neither @Public nor @Permit).');
  const denied = { detail: permissions.length > 0 ? `This request needs the permission ${permissions[0]}` : 'This route is open to nobody', extensions: permissions.length > 0 ? { permissions: [permissions[0]] } : {} };
  const automatic: Array<[ProblemStatus, ReturnType<typeof problemResponse>]> = [
    [401, problemResponse(401)],
    [403, problemResponse(403, denied)],
    [429, problemResponse(429)],
  ];
  for (const [status, response] of automatic) {
    // A route's own description of the status (e.g. a 403 for an org out of scope) wins.
    operation.responses[status] ??= response;
  }
};

/** Declares each operation's access from its handler's @Public/@Permit metadata (never repeated by hand). */
export const documentAccess = (document: OpenAPIObject, controllers: readonly Type[]): OpenAPIObject => {
  const access = accessByOperation(controllers);
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation) describeAccess(operation, operation.operationId ? access.get(operation.operationId) : undefined);
    }
  }
  return document;
};

const TOKEN_DESCRIPTION = 'An API token, `bo.<principalId>.<tokenId>.<secret>`, sent as `Authorization: Bearer <token>`. '
  + 'Admins issue them (POST /principals/{principalId}/tokens on the orchestrator); the first admin token comes from `npm run orchestrator -- bootstrap-admin`.';

/** The OpenAPI document of an app: what its controllers declare, plus the token scheme and each operation's access. */
export const createOpenApiDocument = (app: INestApplication, controllers: readonly Type[], info: OpenApiInfo): OpenAPIObject => {
  const config = new DocumentBuilder()
    .setTitle(info.title)
    .setDescription(info.description)
    .setVersion(info.version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'bo.<principalId>.<tokenId>.<secret>', description: TOKEN_DESCRIPTION }, BEARER_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: operationIdOf,
    extraModels: [ProblemDetailsDto, FieldProblemDto],
  });
  return documentAccess(document, controllers);
};

/**
 * Serves the document at GET /openapi.json and Swagger UI at GET /docs. Both are registered on
 * Fastify by SwaggerModule, outside Nest's router, so the access guard never sees them: they are
 * public by construction, like @Public() routes.
 */
export const serveOpenApi = (app: INestApplication, document: OpenAPIObject): void => {
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: document.info.title,
    swaggerOptions: { persistAuthorization: false, displayOperationId: false },
  });
};
