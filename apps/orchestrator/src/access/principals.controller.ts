import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { Context, Permit, RequestContext } from '@lib/shared';
import { IssueApiTokenCommand, ManagePrincipalCommand } from './access-commands.handler';
import { ChangeRoleDto, CreatePrincipalDto, IssueTokenDto, PrincipalIdPipe, ReasonDto, TokenIdPipe } from './principal.dto';
import { PrincipalDirectory, PrincipalView } from './principal-directory';
import { PrincipalsDocs } from './principals.openapi';

/**
 * The admin API: principals, their roles and their API tokens. Every change is an event in the
 * principal's stream with the acting admin as its actor. A token appears in exactly one response,
 * the one that issues it; everywhere else a token is its id.
 */
@Controller('principals')
@PrincipalsDocs.controller()
export class PrincipalsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly directory: PrincipalDirectory,
  ) {}

  @Post()
  @Permit('principals:manage')
  @HttpCode(201)
  @PrincipalsDocs.create()
  create(@Body() body: CreatePrincipalDto, @Context() context: RequestContext): Promise<PrincipalView> {
    const data = { principalId: body.id, role: body.role, orgs: body.orgs ?? [], description: body.description ?? null };
    return this.commands.execute(new ManagePrincipalCommand({ type: 'CreatePrincipal', data }, context));
  }

  @Get()
  @Permit('principals:read')
  @PrincipalsDocs.list()
  async list(): Promise<{ items: PrincipalView[] }> {
    return { items: await this.directory.list() };
  }

  @Get(':principalId')
  @Permit('principals:read')
  @PrincipalsDocs.get()
  get(@Param('principalId', PrincipalIdPipe) principalId: string): Promise<PrincipalView> {
    return this.directory.get(principalId);
  }

  @Post(':principalId/role')
  @Permit('principals:manage')
  @HttpCode(200)
  @PrincipalsDocs.changeRole()
  changeRole(@Param('principalId', PrincipalIdPipe) principalId: string, @Body() body: ChangeRoleDto, @Context() context: RequestContext): Promise<PrincipalView> {
    return this.commands.execute(new ManagePrincipalCommand({ type: 'ChangePrincipalRole', data: { principalId, role: body.role, orgs: body.orgs ?? [] } }, context));
  }

  @Post(':principalId/disable')
  @Permit('principals:manage')
  @HttpCode(200)
  @PrincipalsDocs.disable()
  disable(@Param('principalId', PrincipalIdPipe) principalId: string, @Body() body: ReasonDto, @Context() context: RequestContext): Promise<PrincipalView> {
    return this.commands.execute(new ManagePrincipalCommand({ type: 'DisablePrincipal', data: { principalId, reason: body.reason ?? null } }, context));
  }

  @Post(':principalId/enable')
  @Permit('principals:manage')
  @HttpCode(200)
  @PrincipalsDocs.enable()
  enable(@Param('principalId', PrincipalIdPipe) principalId: string, @Body() body: ReasonDto, @Context() context: RequestContext): Promise<PrincipalView> {
    return this.commands.execute(new ManagePrincipalCommand({ type: 'EnablePrincipal', data: { principalId, reason: body.reason ?? null } }, context));
  }

  /** The only response that carries a token: not to be stored by any cache on the way. */
  @Post(':principalId/tokens')
  @Permit('principals:manage')
  @HttpCode(201)
  @PrincipalsDocs.issueToken()
  async issueToken(
    @Param('principalId', PrincipalIdPipe) principalId: string,
    @Body() body: IssueTokenDto,
    @Context() context: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ token: string; tokenId: string; principalId: string; expiresAt: string | null }> {
    void reply.header('cache-control', 'no-store');
    const issued = await this.commands.execute(new IssueApiTokenCommand(principalId, body.label ?? null, body.expiresInDays ?? null, context));
    return { token: issued.token, tokenId: issued.tokenId, principalId: issued.principalId, expiresAt: issued.expiresAt };
  }

  @Post(':principalId/tokens/:tokenId/revoke')
  @Permit('principals:manage')
  @HttpCode(200)
  @PrincipalsDocs.revokeToken()
  revokeToken(
    @Param('principalId', PrincipalIdPipe) principalId: string,
    @Param('tokenId', TokenIdPipe) tokenId: string,
    @Body() body: ReasonDto,
    @Context() context: RequestContext,
  ): Promise<PrincipalView> {
    return this.commands.execute(new ManagePrincipalCommand({ type: 'RevokeApiToken', data: { principalId, tokenId, reason: body.reason ?? null } }, context));
  }
}
