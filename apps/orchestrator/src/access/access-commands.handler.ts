import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { Clock, IdGenerator, originOf, RequestContext } from '@lib/shared';
import { AccessCommands, AccessRequest, IssuedApiToken } from './access-commands';
import { principalView, PrincipalView } from './principal-directory';


/** An admin's change to a principal (create, role, disable, enable, revoke a token); answers with the principal as it now is. */
export class ManagePrincipalCommand extends Command<PrincipalView> {
  constructor(
    readonly request: AccessRequest,
    readonly context: RequestContext,
  ) {
    super();
  }
}

export class IssueApiTokenCommand extends Command<IssuedApiToken> {
  constructor(
    readonly principalId: string,
    readonly label: string | null,
    readonly expiresInDays: number | null,
    readonly context: RequestContext,
  ) {
    super();
  }
}

@CommandHandler(ManagePrincipalCommand)
export class ManagePrincipalHandler implements ICommandHandler<ManagePrincipalCommand> {
  private readonly commands: AccessCommands;

  constructor(@Inject(EVENT_STORE) store: EventStore, clock: Clock, ids: IdGenerator) {
    this.commands = new AccessCommands(store, clock, ids);
  }

  async execute({ request, context }: ManagePrincipalCommand): Promise<PrincipalView> {
    const { state } = await this.commands.send(request, originOf(context));
    // Every access command either needs the principal or creates it: the state is known here.
    if (state.status === 'none') throw new Error(`${request.type} left principal ${request.data.principalId} unknown`);
    return principalView(state);
  }
}

@CommandHandler(IssueApiTokenCommand)
export class IssueApiTokenHandler implements ICommandHandler<IssueApiTokenCommand> {
  private readonly commands: AccessCommands;

  constructor(@Inject(EVENT_STORE) store: EventStore, clock: Clock, ids: IdGenerator) {
    this.commands = new AccessCommands(store, clock, ids);
  }

  execute({ principalId, label, expiresInDays, context }: IssueApiTokenCommand): Promise<IssuedApiToken> {
    return this.commands.issueToken(principalId, { label, expiresInDays }, originOf(context));
  }
}
