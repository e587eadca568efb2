import { CanActivate, ExecutionContext, Injectable, Logger, Provider, SetMetadata, Type } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { Permission, permits, Principal } from '@lib/domain';
import { ContextualRequest } from '../http/request-context';
import { AccessDeniedError, AuthenticationError } from './auth.errors';
import { RateLimiter } from './rate-limiter';
import { TokenVerifier } from './token-verifier';

export const PUBLIC_ROUTE = 'access:public';
export const REQUIRED_PERMISSIONS = 'access:permissions';

/** Open to anyone, without a token (health, the registry's token endpoint with its own credentials). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

/** Open to principals whose role has every one of `permissions` (on a controller, they add to its routes' own). */
export const Permit = (...permissions: [Permission, ...Permission[]]): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_PERMISSIONS, permissions);

/** What a route declares: public, some permissions, or nothing usable (neither, or both), which nobody may call. */
export type RouteAccess =
  | Readonly<{ kind: 'public' }>
  | Readonly<{ kind: 'permit'; permissions: readonly Permission[] }>
  | Readonly<{ kind: 'undeclared' | 'conflicting' }>;

export const routeAccessOf = (reflector: Reflector, handler: Function, controller: Type): RouteAccess => {
  const isPublic = reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, [handler, controller]) === true;
  const permissions = reflector.getAllAndMerge<Permission[]>(REQUIRED_PERMISSIONS, [handler, controller]) ?? [];
  if (isPublic && permissions.length > 0) return { kind: 'conflicting' };
  if (isPublic) return { kind: 'public' };
  return permissions.length > 0 ? { kind: 'permit', permissions: [...new Set(permissions)] } : { kind: 'undeclared' };
};

/**
 * The global guard of both apps: deny unless the route says otherwise. On every non-public route it
 * authenticates the bearer token (401), counts the request against the principal's rate (429),
 * checks the route's permissions (403) and leaves the principal on the request for @Context().
 * It logs no header, token or body: only the route of a misdeclared handler.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly logger = new Logger('access');

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    private readonly limiter: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = routeAccessOf(this.reflector, context.getHandler(), context.getClass());
    if (access.kind === 'public') return true;
    const request = context.switchToHttp().getRequest<ContextualRequest>();
    const principal = await this.authenticate(request);
    this.limiter.admit(principal.id);
    if (access.kind !== 'permit') {
      const why = access.kind === 'conflicting' ? 'declares both @Public and @Permit' : 'declares neither @Public nor @Permit';
      this.logger.error(`${request.method} ${request.routeOptions?.url ?? '?'} (${context.getClass().name}.${context.getHandler().name}) ${why}: refused to everyone`);
      throw new AccessDeniedError([]);
    }
    const missing = access.permissions.filter((permission) => !permits(principal, permission));
    if (missing.length > 0) throw new AccessDeniedError(missing);
    request.principal = principal;
    return true;
  }

  /** Addresses that failed too often are turned away before their token is even looked at. */
  private async authenticate(request: ContextualRequest): Promise<Principal> {
    this.limiter.refuseBlockedAddress(request.ip);
    try {
      return await this.verifier.verify(request.headers.authorization);
    } catch (error) {
      if (error instanceof AuthenticationError) this.limiter.recordFailedAuthentication(request.ip);
      throw error;
    }
  }
}

/** What both apps need to authenticate and authorize every request (part of sharedProviders). */
export const accessProviders = (): Provider[] => [TokenVerifier, RateLimiter, { provide: APP_GUARD, useClass: AccessGuard }];
