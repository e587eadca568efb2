import { Body, Controller, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { BuildIdPipe, Context, invalidField, Permit, RequestContext } from '@lib/shared';
import { BuildsDocs } from './builds.openapi';
import { BuildOperatorCommand, CancelBuildResult, RetryBuildResult } from './build-operator.handler';
import { CancelBuildDto, QueueBuildDto } from './queue-build.dto';
import { QueueBuildCommand } from './queue-build.handler';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

@Controller('builds')
@BuildsDocs.controller()
export class BuildsController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @Permit('builds:write')
  @HttpCode(202)
  @BuildsDocs.queue()
  async queue(
    @Body() body: QueueBuildDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Context() context: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ buildId: string; status: 'queued'; position: number }> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw invalidField('Idempotency-Key', 'must be 1..255 visible ASCII characters');
    }
    const result = await this.commands.execute(new QueueBuildCommand(body, idempotencyKey ?? null, context));
    if (result.replayed) void reply.header('idempotent-replayed', 'true');
    return { buildId: result.buildId, status: result.status, position: result.position };
  }

  @Post(':buildId/cancel')
  @Permit('builds:write')
  @HttpCode(202)
  @BuildsDocs.cancel()
  async cancel(
    @Param('buildId', BuildIdPipe) buildId: string,
    @Body() body: CancelBuildDto,
    @Context() context: RequestContext,
  ): Promise<CancelBuildResult> {
    const { position } = await this.commands.execute(new BuildOperatorCommand(buildId, { type: 'CancelBuild', reason: body?.reason ?? null }, context));
    return { buildId, status: 'canceled', position };
  }

  @Post(':buildId/retry')
  @Permit('builds:write')
  @HttpCode(202)
  @BuildsDocs.retry()
  async retry(
    @Param('buildId', BuildIdPipe) buildId: string,
    @Body() body: CancelBuildDto,
    @Context() context: RequestContext,
  ): Promise<RetryBuildResult> {
    const { attempt, position } = await this.commands.execute(new BuildOperatorCommand(buildId, { type: 'RetryBuild', reason: body?.reason ?? null }, context));
    return { buildId, status: 'queued', attempt, position };
  }
}
