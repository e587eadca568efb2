import { AccessEvent, foldPrincipal, principalStream } from '@lib/domain';
import { EventStore } from '@lib/event-store';
import { Clock, IdGenerator } from '@lib/shared';
import { AccessCommands, IssuedApiToken } from '../access/access-commands';

export type AdminTokenRequest = Readonly<{ principalId: string; label: string | null; expiresInDays: number | null; actor: string }>;
export type AdminTokenOutcome = Readonly<{ issued: IssuedApiToken; created: boolean }>;

/** Why the command cannot do what was asked (exit code 1), said for the operator. */
export class AdminTokenRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminTokenRefused';
  }
}

/**
 * The first admin of an installation, and the way back in when no admin token is left: creates the
 * admin principal if it does not exist and issues it a token. It runs on the machine, against the
 * store directly; no endpoint does this.
 */
export const createAdminToken = async (store: EventStore, clock: Clock, ids: IdGenerator, request: AdminTokenRequest): Promise<AdminTokenOutcome> => {
  const { principalId, actor } = request;
  const correlationId = ids.random();
  const origin = { actor, correlationId, causationId: correlationId };
  const commands = new AccessCommands(store, clock, ids);
  const state = foldPrincipal((await store.readStream(principalStream(principalId))) as unknown as AccessEvent[]);
  if (state.status !== 'none' && state.role !== 'admin') {
    throw new AdminTokenRefused(`principal ${principalId} exists with role ${state.role}, not admin: name another with --principal`);
  }
  if (state.status === 'disabled') {
    throw new AdminTokenRefused(`principal ${principalId} is disabled: enable it with another admin's token, or name another with --principal`);
  }
  if (state.status === 'none') {
    await commands.send({ type: 'CreatePrincipal', data: { principalId, role: 'admin', orgs: [], description: `admin created on the machine by ${actor}` } }, origin);
  }
  const issued = await commands.issueToken(principalId, { label: request.label, expiresInDays: request.expiresInDays }, origin);
  return { issued, created: state.status === 'none' };
};
