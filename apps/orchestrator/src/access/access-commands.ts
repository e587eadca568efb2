import { AccessCommand, accessDecider, AccessEvent, DistributiveOmit, PrincipalState, principalStream } from '@lib/domain';
import { EventStore } from '@lib/event-store';
import { Clock, CommandOrigin, CommandOutcome, generateApiToken, handleCommand, IdGenerator, RandomBytes } from '@lib/shared';
import { randomBytes } from 'node:crypto';

/** Who sends an access command: the acting principal from the request, or `cli:<user>` on the machine. */
/** Who sends an access command (the CLI, or an admin through the API). */
export type AccessOrigin = CommandOrigin;

/** An access command before its metadata, except IssueApiToken, whose token is made here. */
export type AccessRequest = Exclude<DistributiveOmit<AccessCommand, 'metadata'>, { type: 'IssueApiToken' }>;

/** The one answer that carries a token: to whoever asked for it, once. */
export type IssuedApiToken = Readonly<{ token: string; tokenId: string; principalId: string; expiresAt: string | null; position: number }>;

const DAY_MS = 24 * 3600 * 1000;

/** Appends commands to principals' streams; shared by the admin API and the bootstrap CLI. */
export class AccessCommands {
  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly random: RandomBytes = randomBytes,
  ) {}

  send(request: AccessRequest, origin: AccessOrigin): Promise<CommandOutcome<AccessEvent, PrincipalState>> {
    return this.sendAt(this.clock.now(), request, origin);
  }

  /** Makes a token, records only its hash, and hands the token back. The expiry counts from the issuing event's time. */
  async issueToken(principalId: string, options: { label: string | null; expiresInDays: number | null }, origin: AccessOrigin): Promise<IssuedApiToken> {
    const now = this.clock.now();
    const { token, tokenId, hash } = generateApiToken(principalId, this.random);
    const expiresAt = options.expiresInDays === null ? null : new Date(now.getTime() + options.expiresInDays * DAY_MS).toISOString();
    const outcome = await this.sendAt(now, { type: 'IssueApiToken', data: { principalId, tokenId, hash, label: options.label, expiresAt } }, origin);
    return { token, tokenId, principalId, expiresAt, position: outcome.lastPosition };
  }

  private sendAt(now: Date, request: DistributiveOmit<AccessCommand, 'metadata'>, origin: AccessOrigin): Promise<CommandOutcome<AccessEvent, PrincipalState>> {
    const command = { ...request, metadata: { eventId: this.ids.random(), occurredAt: now.toISOString(), ...origin } } as AccessCommand;
    return handleCommand(this.store, accessDecider, principalStream(request.data.principalId), command);
  }
}
