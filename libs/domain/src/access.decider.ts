import { ALL_ORGS, AccessEvent, PRINCIPAL_ID_PATTERN, Principal, Role, ROLES, SCOPED_ROLES } from './access.events';
import { Decider } from './build.decider';
import {
  ApiTokenNotFoundError,
  IllegalTransitionError,
  InvalidAccessCommandError,
  PrincipalAlreadyExistsError,
  PrincipalDisabledError,
  PrincipalNotFoundError,
  UnknownCommandError,
} from './errors';
import { CommandMetadata, eventMetadataFrom } from './event';

/**
 * One principal's stream: who it is (role, orgs), whether it may act (enabled, disabled) and its API
 * tokens (only their hashes). The actor of every command is the acting principal, or `cli:<user>`
 * for the bootstrap command on the machine.
 */

type Command<Type extends string, Data> = Readonly<{ type: Type; data: Readonly<Data>; metadata: CommandMetadata }>;

export type CreatePrincipal = Command<'CreatePrincipal', { principalId: string; role: Role; orgs: readonly string[]; description: string | null }>;
export type ChangePrincipalRole = Command<'ChangePrincipalRole', { principalId: string; role: Role; orgs: readonly string[] }>;
export type DisablePrincipal = Command<'DisablePrincipal', { principalId: string; reason: string | null }>;
export type EnablePrincipal = Command<'EnablePrincipal', { principalId: string; reason: string | null }>;
/** `hash`: SHA-256 (hex) of the token's secret; the secret itself never reaches the domain. */
export type IssueApiToken = Command<'IssueApiToken', { principalId: string; tokenId: string; hash: string; label: string | null; expiresAt: string | null }>;
export type RevokeApiToken = Command<'RevokeApiToken', { principalId: string; tokenId: string; reason: string | null }>;
export type AccessCommand = CreatePrincipal | ChangePrincipalRole | DisablePrincipal | EnablePrincipal | IssueApiToken | RevokeApiToken;

/** A token's id: 16 lower-case hex digits (the second part of `bo.<principalId>.<tokenId>.<secret>`). */
export const TOKEN_ID_PATTERN = /^[0-9a-f]{16}$/;
/** Orgs as the build API spells them: a slug of 2 to 64 characters. */
export const ORG_SLUG_PATTERN = /^(?=.{2,64}$)[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
export const ACCESS_LIMITS = { description: 500, label: 200, reason: 500, orgs: 1000 } as const;

// ---------------------------------------------------------------- state

export type ApiTokenRecord = Readonly<{
  tokenId: string;
  hash: string;
  label: string | null;
  issuedAt: string;
  issuedBy: string;
  expiresAt: string | null;
  revoked: boolean;
  revokedAt: string | null;
  revokedBy: string | null;
  revokeReason: string | null;
}>;

export type KnownPrincipal = Readonly<{
  status: 'enabled' | 'disabled';
  principalId: string;
  role: Role;
  orgs: readonly string[];
  description: string | null;
  createdAt: string;
  createdBy: string;
  disabledAt: string | null;
  disabledBy: string | null;
  disabledReason: string | null;
  /** In the order they were issued. */
  tokens: ReadonlyMap<string, ApiTokenRecord>;
}>;

export type PrincipalState = Readonly<{ status: 'none' }> | KnownPrincipal;

export const initialPrincipal = (): PrincipalState => ({ status: 'none' });

const withToken = (state: KnownPrincipal, token: ApiTokenRecord): KnownPrincipal => ({ ...state, tokens: new Map(state.tokens).set(token.tokenId, token) });

export const evolvePrincipal = (state: PrincipalState, event: AccessEvent): PrincipalState => {
  const { occurredAt: at, actor } = event.metadata;
  if (event.type === 'PrincipalCreated') {
    if (state.status !== 'none') return state;
    const { principalId, role, orgs, description } = event.data;
    return {
      status: 'enabled', principalId, role, orgs: [...orgs], description, createdAt: at, createdBy: actor,
      disabledAt: null, disabledBy: null, disabledReason: null, tokens: new Map(),
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'PrincipalRoleChanged':
      return { ...state, role: event.data.role, orgs: [...event.data.orgs] };
    case 'PrincipalDisabled':
      return { ...state, status: 'disabled', disabledAt: at, disabledBy: actor, disabledReason: event.data.reason };
    case 'PrincipalEnabled':
      return { ...state, status: 'enabled', disabledAt: null, disabledBy: null, disabledReason: null };
    case 'ApiTokenIssued': {
      const { tokenId, hash, label, expiresAt } = event.data;
      return withToken(state, { tokenId, hash, label, issuedAt: at, issuedBy: actor, expiresAt, revoked: false, revokedAt: null, revokedBy: null, revokeReason: null });
    }
    case 'ApiTokenRevoked': {
      const token = state.tokens.get(event.data.tokenId);
      if (!token || token.revoked) return state;
      return withToken(state, { ...token, revoked: true, revokedAt: at, revokedBy: actor, revokeReason: event.data.reason });
    }
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
};

export const foldPrincipal = (events: readonly AccessEvent[]): PrincipalState => events.reduce(evolvePrincipal, initialPrincipal());

// ---------------------------------------------------------------- decide

const invalid = (command: AccessCommand, field: string, reason: string): never => {
  throw new InvalidAccessCommandError(command.type, field, reason);
};

const refuse = (command: AccessCommand, state: KnownPrincipal, reason: string): never => {
  throw new IllegalTransitionError(command.type, state.status, reason, `principal ${state.principalId} (${state.status})`);
};

const requirePrincipal = (command: AccessCommand, state: PrincipalState): KnownPrincipal => {
  if (state.status === 'none') throw new PrincipalNotFoundError(command.data.principalId);
  if (state.principalId !== command.data.principalId) {
    refuse(command, state, `the command names principal ${command.data.principalId} but the stream holds ${state.principalId}`);
  }
  return state;
};

const checkText = (command: AccessCommand, field: string, value: string | null, limit: number): void => {
  if (value === null) return;
  if (value.trim() === '') invalid(command, field, 'must not be empty (leave it out instead)');
  if (value.length > limit) invalid(command, field, `must be at most ${limit} characters`);
};

/** Builders and viewers reach some orgs (or every org, '*', alone); the other roles reach none by name. */
const checkRoleAndOrgs = (command: CreatePrincipal | ChangePrincipalRole): void => {
  const { role, orgs } = command.data;
  if (!ROLES.includes(role)) invalid(command, 'role', `must be one of ${ROLES.join(', ')}`);
  if (!SCOPED_ROLES.includes(role)) {
    if (orgs.length > 0) invalid(command, 'orgs', `must be empty: a ${role} is not limited to orgs`);
    return;
  }
  if (orgs.length === 0) invalid(command, 'orgs', `a ${role} needs at least one org (or '${ALL_ORGS}' for every org)`);
  if (orgs.length > ACCESS_LIMITS.orgs) invalid(command, 'orgs', `must name at most ${ACCESS_LIMITS.orgs} orgs`);
  if (orgs.includes(ALL_ORGS) && orgs.length > 1) invalid(command, 'orgs', `'${ALL_ORGS}' (every org) stands alone`);
  const bad = orgs.find((org) => org !== ALL_ORGS && !ORG_SLUG_PATTERN.test(org));
  if (bad !== undefined) invalid(command, 'orgs', `${JSON.stringify(bad)} is not an org (2 to 64 lower-case letters and digits, single . _ or - inside)`);
  if (new Set(orgs).size !== orgs.length) invalid(command, 'orgs', 'must not name an org twice');
};

const sameOrgs = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((org) => b.includes(org));

const create = (command: CreatePrincipal, state: PrincipalState): AccessEvent[] => {
  const { principalId, role, orgs, description } = command.data;
  if (state.status !== 'none') throw new PrincipalAlreadyExistsError(principalId);
  if (!PRINCIPAL_ID_PATTERN.test(principalId)) invalid(command, 'principalId', 'must be 1 to 63 lower-case letters, digits, _ or -, starting with a letter or digit');
  checkRoleAndOrgs(command);
  checkText(command, 'description', description, ACCESS_LIMITS.description);
  return [{ type: 'PrincipalCreated', data: { principalId, role, orgs: [...orgs], description }, metadata: eventMetadataFrom(command.metadata) }];
};

/** Changing to the same role and orgs (in any order) changes nothing. A principal cannot change its own role: another admin must. */
const changeRole = (command: ChangePrincipalRole, state: PrincipalState): AccessEvent[] => {
  const principal = requirePrincipal(command, state);
  checkRoleAndOrgs(command);
  const { principalId, role, orgs } = command.data;
  if (role === principal.role && sameOrgs(orgs, principal.orgs)) return [];
  if (command.metadata.actor === principalId && role !== principal.role) refuse(command, principal, 'a principal cannot change its own role; another admin must');
  const data = { principalId, role, orgs: [...orgs], previousRole: principal.role, previousOrgs: [...principal.orgs] };
  return [{ type: 'PrincipalRoleChanged', data, metadata: eventMetadataFrom(command.metadata) }];
};

/** Disabling a disabled principal, or enabling an enabled one, changes nothing. Nobody disables itself (the last admin would lock everyone out). */
const disable = (command: DisablePrincipal, state: PrincipalState): AccessEvent[] => {
  const principal = requirePrincipal(command, state);
  checkText(command, 'reason', command.data.reason, ACCESS_LIMITS.reason);
  if (principal.status === 'disabled') return [];
  if (command.metadata.actor === principal.principalId) refuse(command, principal, 'a principal cannot disable itself; another admin must');
  return [{ type: 'PrincipalDisabled', data: { principalId: principal.principalId, reason: command.data.reason }, metadata: eventMetadataFrom(command.metadata) }];
};

const enable = (command: EnablePrincipal, state: PrincipalState): AccessEvent[] => {
  const principal = requirePrincipal(command, state);
  checkText(command, 'reason', command.data.reason, ACCESS_LIMITS.reason);
  if (principal.status === 'enabled') return [];
  return [{ type: 'PrincipalEnabled', data: { principalId: principal.principalId, reason: command.data.reason }, metadata: eventMetadataFrom(command.metadata) }];
};

const issue = (command: IssueApiToken, state: PrincipalState): AccessEvent[] => {
  const principal = requirePrincipal(command, state);
  if (principal.status === 'disabled') throw new PrincipalDisabledError(principal.principalId, command.type);
  const { principalId, tokenId, hash, label, expiresAt } = command.data;
  if (!TOKEN_ID_PATTERN.test(tokenId)) invalid(command, 'tokenId', 'must be 16 lower-case hex digits');
  // Guards against a secret (or anything but its digest) ever being recorded.
  if (!SHA256_HEX.test(hash)) invalid(command, 'hash', 'must be the SHA-256 digest of the token secret in lower-case hex');
  checkText(command, 'label', label, ACCESS_LIMITS.label);
  if (expiresAt !== null && !(ISO_TIME.test(expiresAt) && Date.parse(expiresAt) > Date.parse(command.metadata.occurredAt))) {
    invalid(command, 'expiresAt', 'must be an ISO-8601 time with a zone, after the token is issued');
  }
  if (principal.tokens.has(tokenId)) refuse(command, principal, `token ${tokenId} was already issued`);
  return [{ type: 'ApiTokenIssued', data: { principalId, tokenId, hash, label, expiresAt }, metadata: eventMetadataFrom(command.metadata) }];
};

/** An unknown token is a 404; revoking a revoked token changes nothing. Tokens of a disabled principal can be revoked. */
const revoke = (command: RevokeApiToken, state: PrincipalState): AccessEvent[] => {
  const principal = requirePrincipal(command, state);
  const { principalId, tokenId, reason } = command.data;
  checkText(command, 'reason', reason, ACCESS_LIMITS.reason);
  const token = principal.tokens.get(tokenId);
  if (!token) throw new ApiTokenNotFoundError(principalId, tokenId);
  if (token.revoked) return [];
  return [{ type: 'ApiTokenRevoked', data: { principalId, tokenId, reason }, metadata: eventMetadataFrom(command.metadata) }];
};

/** decide(command, state) → events. Pure: time, ids, the token's hash and the actor come with the command. */
export const decideAccess = (command: AccessCommand, state: PrincipalState): AccessEvent[] => {
  switch (command.type) {
    case 'CreatePrincipal': return create(command, state);
    case 'ChangePrincipalRole': return changeRole(command, state);
    case 'DisablePrincipal': return disable(command, state);
    case 'EnablePrincipal': return enable(command, state);
    case 'IssueApiToken': return issue(command, state);
    case 'RevokeApiToken': return revoke(command, state);
    default: {
      const unknown: never = command;
      throw new UnknownCommandError(unknown);
    }
  }
};

export const accessDecider: Decider<AccessCommand, AccessEvent, PrincipalState> = { decide: decideAccess, evolve: evolvePrincipal, initialState: initialPrincipal };

// ---------------------------------------------------------------- verification

/** What verifying a token needs of a principal's stream, and nothing else. */
export type PrincipalCredentials = Readonly<{
  principal: Principal;
  disabled: boolean;
  tokens: ReadonlyMap<string, Readonly<{ hash: string; revoked: boolean; expiresAt: string | null }>>;
}>;

export const credentialsOf = (state: PrincipalState): PrincipalCredentials | null =>
  state.status === 'none'
    ? null
    : {
        principal: { id: state.principalId, role: state.role, orgs: state.orgs },
        disabled: state.status === 'disabled',
        tokens: new Map([...state.tokens].map(([tokenId, { hash, revoked, expiresAt }]) => [tokenId, { hash, revoked, expiresAt }])),
      };

export type TokenRefusal = 'unknown-principal' | 'unknown-token' | 'revoked' | 'expired' | 'disabled';

export type TokenStanding =
  | Readonly<{ usable: true; principal: Principal; hash: string }>
  | Readonly<{ usable: false; reason: TokenRefusal }>;

/**
 * Whether token `tokenId` of these credentials may be used at `at` (ISO-8601), and if so the hash its
 * secret must match. Comparing the secret is the caller's (in constant time, outside the domain).
 */
export const tokenStanding = (credentials: PrincipalCredentials | null, tokenId: string, at: string): TokenStanding => {
  if (credentials === null) return { usable: false, reason: 'unknown-principal' };
  const token = credentials.tokens.get(tokenId);
  if (!token) return { usable: false, reason: 'unknown-token' };
  if (token.revoked) return { usable: false, reason: 'revoked' };
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= Date.parse(at)) return { usable: false, reason: 'expired' };
  if (credentials.disabled) return { usable: false, reason: 'disabled' };
  return { usable: true, principal: credentials.principal, hash: token.hash };
};
