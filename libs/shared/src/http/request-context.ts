import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who is asking and which conversation the request belongs to; becomes the events' metadata. */
export type RequestContext = Readonly<{
  requestId: string;
  correlationId: string;
  /** Principal id. Until authentication exists every HTTP caller is 'anonymous'. */
  actor: string;
}>;

export const CORRELATION_HEADER = 'x-correlation-id';
export const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const ANONYMOUS_ACTOR = 'anonymous';

export type ContextualRequest = FastifyRequest & { correlationId?: string };

export const requestContextOf = (request: ContextualRequest): RequestContext => ({
  requestId: String(request.id),
  correlationId: request.correlationId ?? String(request.id),
  actor: ANONYMOUS_ACTOR,
});

export const Context = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestContext =>
  requestContextOf(ctx.switchToHttp().getRequest<ContextualRequest>()),
);
