import { RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { RouteAccess, routeAccessOf } from '../access.guard';

const joinPath = (...parts: string[]): string => `/${parts.map((part) => part.replace(/^\/|\/$/g, '')).filter((part) => part !== '').join('/')}`;

/** `public`, `builds:read + routes:read`, `undeclared` or `conflicting`. */
export const describeRouteAccess = (access: RouteAccess): string => (access.kind === 'permit' ? access.permissions.join(' + ') : access.kind);

/** Every route of `controllers` as "METHOD /path" → what its handler declares, read as the access guard reads it. */
export const routeAccessTable = (controllers: readonly Type[]): Record<string, string> => {
  const reflector = new Reflector();
  const routes: Record<string, string> = {};
  for (const controller of controllers) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = controller.prototype[name] as (...args: unknown[]) => unknown;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      if (name === 'constructor' || path === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
      for (const each of Array.isArray(path) ? path : [path]) routes[`${method} ${joinPath(base, each)}`] = describeRouteAccess(routeAccessOf(reflector, handler, controller));
    }
  }
  return routes;
};
