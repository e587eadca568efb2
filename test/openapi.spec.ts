import { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { OpenAPIObject } from '@nestjs/swagger';
import { BEARER_SCHEME, createOpenApiDocument, loadConfig, OpenApiInfo, PROBLEM_MEDIA_TYPE } from '@lib/shared';
import { routeAccessTable } from '@lib/shared/auth/testing/route-table';
import { OrchestratorModule } from '../apps/orchestrator/src/orchestrator.module';
import { ORCHESTRATOR_API } from '../apps/orchestrator/src/orchestrator.openapi';
import { ProjectorModule } from '../apps/projector/src/projector.module';
import { PROJECTOR_API } from '../apps/projector/src/projector.openapi';

/**
 * Every route of both apps' root modules (whatever controllers they gain) is in the app's OpenAPI
 * document, described well enough to call it: a summary, a success response with its content, its
 * errors as problem+json, and, unless public, the bearer scheme and the permissions it needs.
 */

type Operation = { summary?: string; security?: Record<string, string[]>[]; responses: Record<string, Response>; 'x-permissions'?: string[]; parameters?: Parameter[] };
type Response = { description?: string; content?: Record<string, { schema?: Record<string, unknown>; example?: unknown }> };
type Parameter = { name: string; in: string; description?: string; schema?: Record<string, unknown> };

const config = loadConfig({ EXECUTOR_ENABLED: 'true' });
const APPS: Array<[string, DynamicModule, OpenApiInfo]> = [
  ['orchestrator', OrchestratorModule.forRoot(config), ORCHESTRATOR_API],
  ['projector', ProjectorModule.forRoot(config), PROJECTOR_API],
];

/** Preview mode resolves the module graph without instantiating providers: no store is opened. */
const documentOf = async (module: DynamicModule, info: OpenApiInfo): Promise<OpenAPIObject> => {
  const app = await NestFactory.create(module, new FastifyAdapter(), { preview: true, logger: false });
  try {
    return createOpenApiDocument(app, module.controllers ?? [], info);
  } finally {
    await app.close();
  }
};

/** "GET /builds/:buildId" → ['get', '/builds/{buildId}'], as the document spells it. */
const locate = (route: string): [string, string] => {
  const [method, path] = route.split(' ');
  return [method.toLowerCase(), path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')];
};

describe.each(APPS)('the OpenAPI document of the %s', (_, module, info) => {
  let document: OpenAPIObject;
  const routes = routeAccessTable(module.controllers ?? []);
  const operationOf = (route: string): Operation => {
    const [method, path] = locate(route);
    return (document.paths[path] as Record<string, Operation> | undefined)?.[method] as Operation;
  };

  beforeAll(async () => {
    document = await documentOf(module, info);
  });

  it('declares the bearer scheme of API tokens and the problem schema', () => {
    expect(document.components?.securitySchemes?.[BEARER_SCHEME]).toMatchObject({ type: 'http', scheme: 'bearer' });
    const problem = document.components?.schemas?.ProblemDetailsDto as { required?: string[]; properties?: Record<string, unknown> };
    expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail']));
    expect(Object.keys(problem.properties ?? {})).toEqual(expect.arrayContaining(['instance', 'correlationId', 'errors']));
  });

  it('has every route, with its method', () => {
    expect(Object.keys(routes).length).toBeGreaterThan(1);
    expect(Object.keys(routes).filter((route) => !operationOf(route))).toEqual([]);
  });

  it('gives every operation a summary', () => {
    expect(Object.keys(routes).filter((route) => !operationOf(route)?.summary?.trim())).toEqual([]);
  });

  it('gives every operation a success response with its content type and a schema', () => {
    const lacking = Object.keys(routes).filter((route) => {
      const responses = Object.entries(operationOf(route)?.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
      return !responses.some(([, response]) => Object.values(response.content ?? {}).some((media) => media.schema !== undefined));
    });
    expect(lacking).toEqual([]);
  });

  it('describes every error response as problem+json with an example', () => {
    const wrong: string[] = [];
    for (const route of Object.keys(routes)) {
      const errors = Object.entries(operationOf(route)?.responses ?? {}).filter(([status]) => /^[45]\d\d$/.test(status));
      if (errors.length === 0 && routes[route] !== 'public') wrong.push(`${route}: no error response`);
      for (const [status, response] of errors) {
        const media = response.content?.[PROBLEM_MEDIA_TYPE];
        if (media?.schema?.$ref !== '#/components/schemas/ProblemDetailsDto' || (media.example as { status?: number })?.status !== Number(status)) {
          wrong.push(`${route}: ${status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('marks every secured operation with the bearer scheme, its permissions and its 401, 403 and 429', () => {
    const wrong = Object.entries(routes).filter(([route, access]) => {
      const operation = operationOf(route);
      if (access === 'public') return operation?.security?.length !== 0 || operation['x-permissions'] !== undefined;
      return !operation?.security?.some((requirement) => BEARER_SCHEME in requirement)
        || operation['x-permissions']?.join(' + ') !== access
        || !['401', '403', '429'].every((status) => status in operation.responses);
    });
    expect(wrong).toEqual([]);
  });

  it('resolves every schema reference to a component', () => {
    const references = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(([, name]) => name);
    expect(references.length).toBeGreaterThan(0);
    expect([...new Set(references)].filter((name) => !document.components?.schemas?.[name])).toEqual([]);
  });

  it('gives every request body a JSON schema', () => {
    const lacking = Object.keys(routes).filter((route) => {
      const body = (operationOf(route) as { requestBody?: { content?: Record<string, { schema?: unknown }> } } | undefined)?.requestBody;
      return body !== undefined && body.content?.['application/json']?.schema === undefined;
    });
    expect(lacking).toEqual([]);
  });

  it('describes every path parameter', () => {
    const undescribed = Object.keys(routes).flatMap((route) =>
      (operationOf(route)?.parameters ?? []).filter((parameter) => parameter.in === 'path' && !parameter.description).map((parameter) => `${route}: ${parameter.name}`));
    expect(undescribed).toEqual([]);
  });
});
