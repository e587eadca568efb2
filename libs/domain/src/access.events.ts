import { Event } from './event';

/**
 * Who may do what. A principal (a person or a machine) has one role; builders and viewers are
 * scoped to orgs. API tokens belong to a principal; only a hash of each is ever stored. Everything
 * about principals and tokens is an event in the principal's stream `principal-<principalId>`,
 * with the acting principal in the metadata.
 */

export const ROLES = ['builder', 'viewer', 'auditor', 'sre', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Lower-case slug; no `.` (a token is `bo.<principalId>.<tokenId>.<secret>`) and no `:` (actors like `system:worker` are not principals). */
export const PRINCIPAL_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Every org: a builder or viewer for the whole platform (a CI system, a support desk). */
export const ALL_ORGS = '*';

export const PERMISSIONS = [
  /** Queue, cancel and retry builds (of the orgs in scope). */
  'builds:write',
  /** Read builds, their logs, history and events, the queue, statistics, the live stream and the export (of the orgs in scope). */
  'builds:read',
  /** Read backends and registry endpoints (circuits, drains, rates; failure details only when unscoped). */
  'routes:read',
  /** Drain and undrain backends and registry endpoints. */
  'routes:write',
  /** Read incidents, timelines, post-mortems and failure analyses (unscoped only). */
  'incidents:read',
  /** Add notes to incidents and set their milestones. */
  'incidents:write',
  /** Read the whole log: non-build events in the audit export, projections' state, the detector. */
  'operations:read',
  /** List principals (without token hashes). */
  'principals:read',
  /** Create principals, change roles, issue and revoke tokens. */
  'principals:manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  builder: ['builds:write', 'builds:read', 'routes:read'],
  viewer: ['builds:read', 'routes:read'],
  auditor: ['builds:read', 'routes:read', 'incidents:read', 'operations:read', 'principals:read'],
  sre: ['builds:read', 'routes:read', 'routes:write', 'incidents:read', 'incidents:write', 'operations:read'],
  admin: ['principals:read', 'principals:manage'],
};

/** The roles whose reach is limited to some orgs. */
export const SCOPED_ROLES: readonly Role[] = ['builder', 'viewer'];

/** What a principal may see and touch of the builds: every org, or these. */
export type OrgScope = Readonly<{ kind: 'all' }> | Readonly<{ kind: 'orgs'; orgs: ReadonlySet<string> }>;

/** A principal as the apps see it once its token is verified. */
export type Principal = Readonly<{ id: string; role: Role; orgs: readonly string[] }>;

export const permits = (principal: Pick<Principal, 'role'>, permission: Permission): boolean => ROLE_PERMISSIONS[principal.role].includes(permission);

export const scopeOf = (principal: Pick<Principal, 'role' | 'orgs'>): OrgScope =>
  SCOPED_ROLES.includes(principal.role) && !principal.orgs.includes(ALL_ORGS) ? { kind: 'orgs', orgs: new Set(principal.orgs) } : { kind: 'all' };

export const inScope = (scope: OrgScope, org: string): boolean => scope.kind === 'all' || scope.orgs.has(org);

// ---------------------------------------------------------------- events

type PrincipalRef = { principalId: string };

export type PrincipalCreated = Event<'PrincipalCreated', PrincipalRef & { role: Role; orgs: string[]; description: string | null }>;
export type PrincipalRoleChanged = Event<'PrincipalRoleChanged', PrincipalRef & { role: Role; orgs: string[]; previousRole: Role; previousOrgs: string[] }>;
/** A disabled principal's tokens stop working at once; it cannot be given tokens until enabled. */
export type PrincipalDisabled = Event<'PrincipalDisabled', PrincipalRef & { reason: string | null }>;
export type PrincipalEnabled = Event<'PrincipalEnabled', PrincipalRef & { reason: string | null }>;
/**
 * `hash`: SHA-256 (hex) of the token's secret part; the token itself is shown once, to whoever
 * asked for it, and never stored, logged or recorded.
 */
export type ApiTokenIssued = Event<'ApiTokenIssued', PrincipalRef & { tokenId: string; hash: string; label: string | null; expiresAt: string | null }>;
export type ApiTokenRevoked = Event<'ApiTokenRevoked', PrincipalRef & { tokenId: string; reason: string | null }>;

export type AccessEvent = PrincipalCreated | PrincipalRoleChanged | PrincipalDisabled | PrincipalEnabled | ApiTokenIssued | ApiTokenRevoked;
export const ACCESS_EVENT_TYPES: readonly AccessEvent['type'][] = [
  'PrincipalCreated', 'PrincipalRoleChanged', 'PrincipalDisabled', 'PrincipalEnabled', 'ApiTokenIssued', 'ApiTokenRevoked',
];

export const PRINCIPAL_STREAM_PREFIX = 'principal-';
export const principalStream = (principalId: string): string => `${PRINCIPAL_STREAM_PREFIX}${principalId}`;
