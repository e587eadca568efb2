import { AccessCommand, ChangePrincipalRole, CreatePrincipal, DisablePrincipal, EnablePrincipal, IssueApiToken, RevokeApiToken } from '../access.decider';
import { AccessEvent, ApiTokenIssued, ApiTokenRevoked, PrincipalCreated, PrincipalDisabled, PrincipalEnabled, PrincipalRoleChanged } from '../access.events';
import { CommandMetadata, EventMetadata } from '../event';
import { commandMetadata, eventMetadata } from './build.fixtures';

/**
 * Principal and token events and commands, with the conventions of build.fixtures: events from
 * 09:00 with ids e…3xx, commands at 10:00 with ids c…3xx. The actor is the admin `root`.
 */

const uuid = (prefix: 'c' | 'e', n: number): string => `${prefix}0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

export const PRINCIPAL_ID = 'ci-acme';
export const ADMIN = 'root';
export const TOKEN_ID = '0123456789abcdef';
export const OTHER_TOKEN_ID = 'fedcba9876543210';
/** SHA-256 of "secret" (what matters is that it is 64 hex digits). */
export const TOKEN_HASH = '2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b';
export const CREATED_AT = '2026-11-16T09:00:00.000Z';
export const ISSUED_AT = '2026-11-16T09:01:00.000Z';
export const REVOKED_AT = '2026-11-16T09:02:00.000Z';
export const DISABLED_AT = '2026-11-16T09:03:00.000Z';

type EventOf<E extends AccessEvent> = (data?: Partial<E['data']>, metadata?: Partial<EventMetadata>) => E;

const eventFixture =
  <E extends AccessEvent>(type: E['type'], n: number, occurredAt: string, defaults: () => E['data']): EventOf<E> =>
  (data = {}, metadata = {}) =>
    ({ type, data: { ...defaults(), ...data }, metadata: eventMetadata({ eventId: uuid('e', n), occurredAt, actor: ADMIN, ...metadata }) }) as E;

export const principalCreated = eventFixture<PrincipalCreated>('PrincipalCreated', 301, CREATED_AT, () => ({
  principalId: PRINCIPAL_ID, role: 'builder', orgs: ['acme'], description: 'CI of acme',
}));
export const principalRoleChanged = eventFixture<PrincipalRoleChanged>('PrincipalRoleChanged', 302, '2026-11-16T09:00:30.000Z', () => ({
  principalId: PRINCIPAL_ID, role: 'viewer', orgs: ['acme', 'globex'], previousRole: 'builder', previousOrgs: ['acme'],
}));
export const apiTokenIssued = eventFixture<ApiTokenIssued>('ApiTokenIssued', 303, ISSUED_AT, () => ({
  principalId: PRINCIPAL_ID, tokenId: TOKEN_ID, hash: TOKEN_HASH, label: 'ci runner', expiresAt: null,
}));
export const apiTokenRevoked = eventFixture<ApiTokenRevoked>('ApiTokenRevoked', 304, REVOKED_AT, () => ({
  principalId: PRINCIPAL_ID, tokenId: TOKEN_ID, reason: 'leaked in a log',
}));
export const principalDisabled = eventFixture<PrincipalDisabled>('PrincipalDisabled', 305, DISABLED_AT, () => ({
  principalId: PRINCIPAL_ID, reason: 'left the company',
}));
export const principalEnabled = eventFixture<PrincipalEnabled>('PrincipalEnabled', 306, '2026-11-16T09:04:00.000Z', () => ({
  principalId: PRINCIPAL_ID, reason: 'came back',
}));

type CommandOf<C extends AccessCommand> = (data?: Partial<C['data']>, metadata?: Partial<CommandMetadata>) => C;

const commandFixture =
  <C extends AccessCommand>(type: C['type'], n: number, defaults: () => C['data']): CommandOf<C> =>
  (data = {}, metadata = {}) =>
    ({ type, data: { ...defaults(), ...data }, metadata: commandMetadata({ eventId: uuid('c', n), actor: ADMIN, ...metadata }) }) as C;

export const createPrincipal = commandFixture<CreatePrincipal>('CreatePrincipal', 301, () => ({
  principalId: PRINCIPAL_ID, role: 'builder', orgs: ['acme'], description: 'CI of acme',
}));
export const changePrincipalRole = commandFixture<ChangePrincipalRole>('ChangePrincipalRole', 302, () => ({
  principalId: PRINCIPAL_ID, role: 'viewer', orgs: ['acme', 'globex'],
}));
export const issueApiToken = commandFixture<IssueApiToken>('IssueApiToken', 303, () => ({
  principalId: PRINCIPAL_ID, tokenId: OTHER_TOKEN_ID, hash: TOKEN_HASH, label: 'laptop', expiresAt: '2026-12-16T10:00:00.000Z',
}));
export const revokeApiToken = commandFixture<RevokeApiToken>('RevokeApiToken', 304, () => ({
  principalId: PRINCIPAL_ID, tokenId: TOKEN_ID, reason: 'rotated',
}));
export const disablePrincipal = commandFixture<DisablePrincipal>('DisablePrincipal', 305, () => ({ principalId: PRINCIPAL_ID, reason: 'on leave' }));
export const enablePrincipal = commandFixture<EnablePrincipal>('EnablePrincipal', 306, () => ({ principalId: PRINCIPAL_ID, reason: 'back' }));

/** Streams that leave a principal in each state; fresh arrays on every call. */
export const principalHistory = {
  none: (): AccessEvent[] => [],
  created: (): AccessEvent[] => [principalCreated()],
  withToken: (): AccessEvent[] => [principalCreated(), apiTokenIssued()],
  revoked: (): AccessEvent[] => [...principalHistory.withToken(), apiTokenRevoked()],
  disabled: (): AccessEvent[] => [...principalHistory.withToken(), principalDisabled()],
  reenabled: (): AccessEvent[] => [...principalHistory.disabled(), principalEnabled()],
};
