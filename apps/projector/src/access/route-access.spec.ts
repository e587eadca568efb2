import { RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { RouteAccess, routeAccessOf } from '@lib/shared';
import { projectorControllers } from '../projector.module';

/**
 * Who may call each route of the projector, as the access guard reads it. Reading builds, the queue,
 * statistics, the stream and the export needs builds:read (and each handler keeps to the scope);
 * incidents aggregate many orgs, so only unscoped roles have incidents:read.
 */
const EXPECTED: Readonly<Record<string, string>> = {
  'GET /builds': 'builds:read',
  'GET /builds/:buildId': 'builds:read',
  'GET /builds/:buildId/events': 'builds:read',
  'GET /builds/:buildId/history': 'builds:read',
  'GET /audit/events': 'builds:read',
  'GET /queue': 'builds:read',
  'GET /queue/orgs/:org': 'builds:read',
  'GET /queue/builds/:buildId': 'builds:read',
  'GET /stats': 'builds:read',
  'GET /stream/builds': 'builds:read',
  'GET /backends': 'routes:read',
  'GET /registry-endpoints': 'routes:read',
  'GET /incidents': 'incidents:read',
  'GET /incidents/:id': 'incidents:read',
  'GET /incidents/:id/postmortem': 'incidents:read',
  'GET /incidents/analysis/failures': 'incidents:read',
  'GET /incidents/analysis/top-accounts': 'incidents:read',
  'GET /incidents/analysis/response-times': 'incidents:read',
  'GET /projections': 'operations:read',
  'GET /health': 'public',
  'GET /health/live': 'public',
  'GET /health/ready': 'public',
  'GET /metrics': 'operations:read',
  'GET /': 'public',
  'GET /dashboard/config.json': 'public',
  'GET /dashboard/vendor/chart.umd.js': 'public',
  'GET /dashboard/:file': 'public',
};

const join = (...parts: string[]): string => `/${parts.map((part) => part.replace(/^\/|\/$/g, '')).filter((part) => part !== '').join('/')}`;
const describeAccess = (access: RouteAccess): string => (access.kind === 'permit' ? access.permissions.join(' + ') : access.kind);

/** Every route of the controllers: "METHOD /path" → what its handler declares. */
const routesOf = (controllers: readonly Type[]): Record<string, string> => {
  const reflector = new Reflector();
  const routes: Record<string, string> = {};
  for (const controller of controllers) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = controller.prototype[name] as Function;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (name === 'constructor' || path === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
      routes[`${method} ${join(base, path)}`] = describeAccess(routeAccessOf(reflector, handler, controller));
    }
  }
  return routes;
};

describe('access to the projector\'s routes', () => {
  it('is declared on every route, with the permission its reads need (default deny catches the rest)', () => {
    expect(routesOf(projectorControllers)).toStrictEqual(EXPECTED);
  });
});
