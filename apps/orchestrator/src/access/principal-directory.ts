import { Inject, Injectable } from '@nestjs/common';
import { AccessEvent, ApiTokenRecord, foldPrincipal, KnownPrincipal, PRINCIPAL_STREAM_PREFIX, PrincipalNotFoundError, principalStream, Role } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';

/** A token as the admin API shows it: never its hash (nor, of course, the token). */
export type ApiTokenView = Omit<ApiTokenRecord, 'hash'>;
export type PrincipalView = Readonly<{
  id: string;
  role: Role;
  orgs: readonly string[];
  description: string | null;
  status: 'enabled' | 'disabled';
  createdAt: string;
  createdBy: string;
  disabledAt: string | null;
  disabledBy: string | null;
  disabledReason: string | null;
  tokens: readonly ApiTokenView[];
}>;

/** Field by field, so that whatever the state gains later (a hash, say) stays out unless added here. */
export const principalView = (state: KnownPrincipal): PrincipalView => ({
  id: state.principalId,
  role: state.role,
  orgs: [...state.orgs],
  description: state.description,
  status: state.status,
  createdAt: state.createdAt,
  createdBy: state.createdBy,
  disabledAt: state.disabledAt,
  disabledBy: state.disabledBy,
  disabledReason: state.disabledReason,
  tokens: [...state.tokens.values()].map(({ tokenId, label, issuedAt, issuedBy, expiresAt, revoked, revokedAt, revokedBy, revokeReason }) => ({
    tokenId, label, issuedAt, issuedBy, expiresAt, revoked, revokedAt, revokedBy, revokeReason,
  })),
});

/**
 * Principals as their streams say right now (no read model: an admin sees its own change at once).
 * Listing scans the log for PrincipalCreated events: fine for an admin's occasional look.
 */
@Injectable()
export class PrincipalDirectory {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async get(principalId: string): Promise<PrincipalView> {
    const state = foldPrincipal((await this.store.readStream(principalStream(principalId))) as unknown as AccessEvent[]);
    if (state.status === 'none') throw new PrincipalNotFoundError(principalId);
    return principalView(state);
  }

  async list(): Promise<PrincipalView[]> {
    const created = await this.store.readAll({ filter: { streamPrefixes: [PRINCIPAL_STREAM_PREFIX], eventTypes: ['PrincipalCreated'] } });
    const ids = [...new Set(created.map((event) => String(event.data.principalId)))].sort();
    return Promise.all(ids.map((id) => this.get(id)));
  }
}
