import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { OrgScope, Principal, scopeOf } from '@lib/domain';
import type { FastifyRequest } from 'fastify';

/** Who is asking and which conversation the request belongs to; becomes the events' metadata. */
export type RequestContext = Readonly<{
  requestId: string;
  correlationId: string;
  /** The principal's id (recorded as the events' actor); 'anonymous' on the few public routes. */
  actor: string;
  /** The authenticated principal (null on public routes only: health, the registry's token endpoint). */
  principal: Principal | null;
  /** The orgs whose builds this request may see and touch (all for unscoped roles; none when anonymous). */
  scope: OrgScope;
}>;

/** What nobody may see: the scope of an anonymous request. */
export const NO_ORGS: OrgScope = { kind: 'orgs', orgs: new Set() };

export const CORRELATION_HEADER = 'x-correlation-id';
export const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const ANONYMOUS_ACTOR = 'anonymous';

/** The request as the access guard leaves it: `principal` is set once its token is verified. */
export type ContextualRequest = FastifyRequest & { correlationId?: string; principal?: Principal };

export const requestContextOf = (request: ContextualRequest): RequestContext => ({
  requestId: String(request.id),
  correlationId: request.correlationId ?? String(request.id),
  actor: request.principal?.id ?? ANONYMOUS_ACTOR,
  principal: request.principal ?? null,
  scope: request.principal ? scopeOf(request.principal) : NO_ORGS,
});

export const Context = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestContext =>
  requestContextOf(ctx.switchToHttp().getRequest<ContextualRequest>()),
);
