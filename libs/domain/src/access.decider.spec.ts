import { accessDecider, credentialsOf, foldPrincipal, KnownPrincipal, PrincipalState, tokenStanding } from './access.decider';
import { AccessEvent, principalStream } from './access.events';
import {
  ApiTokenNotFoundError,
  IllegalTransitionError,
  InvalidAccessCommandError,
  PrincipalAlreadyExistsError,
  PrincipalDisabledError,
  PrincipalNotFoundError,
} from './errors';
import {
  ADMIN, apiTokenIssued, apiTokenRevoked, changePrincipalRole, CREATED_AT, createPrincipal, DISABLED_AT, disablePrincipal, enablePrincipal,
  ISSUED_AT, issueApiToken, OTHER_TOKEN_ID, PRINCIPAL_ID, principalCreated, principalDisabled, principalHistory, principalRoleChanged,
  REVOKED_AT, revokeApiToken, TOKEN_HASH, TOKEN_ID,
} from './testing/access.fixtures';
import { DeciderSpecification, deepFreeze, metadataOf } from './testing/decider-spec';

const spec = DeciderSpecification.for(accessDecider);

const invalidField = (field: string) => (error: InvalidAccessCommandError) => {
  expect(error.field).toBe(field);
};

describe('access decider: creating principals', () => {
  it('creates a builder of some orgs, with the admin who did it as the actor', () => {
    const command = createPrincipal();
    spec.given([]).when(command).then([
      { type: 'PrincipalCreated', data: { principalId: 'ci-acme', role: 'builder', orgs: ['acme'], description: 'CI of acme' }, metadata: metadataOf(command) },
    ]);
    expect(metadataOf(command).actor).toBe(ADMIN);
  });

  it.each([
    ['admin', []],
    ['auditor', []],
    ['sre', []],
    ['viewer', ['*']],
    ['builder', ['acme', 'globex.eu', 'a_b-c']],
  ] as const)('creates a %s with orgs %j', (role, orgs) => {
    const command = createPrincipal({ principalId: 'p-1', role, orgs, description: null });
    spec.given([]).when(command).then([{ type: 'PrincipalCreated', data: { principalId: 'p-1', role, orgs: [...orgs], description: null }, metadata: metadataOf(command) }]);
  });

  it('refuses to create a principal that exists (409)', () => {
    spec.given(principalHistory.created()).when(createPrincipal()).thenThrows(PrincipalAlreadyExistsError, { principalId: PRINCIPAL_ID, code: 'principal-already-exists' });
  });

  it.each(['Alice', 'a.b', 'system:worker', '', '-lead', 'x'.repeat(64), 'née'])('refuses the principal id %j', (principalId) => {
    spec.given([]).when(createPrincipal({ principalId })).thenThrows(InvalidAccessCommandError, invalidField('principalId'));
  });

  it.each([
    ['a builder without orgs', 'builder', [], /at least one org/],
    ['a viewer without orgs', 'viewer', [], /at least one org/],
    ['an admin with orgs', 'admin', ['acme'], /must be empty/],
    ['an auditor with orgs', 'auditor', ['*'], /must be empty/],
    ['an sre with orgs', 'sre', ['acme'], /must be empty/],
    ['every org beside named ones', 'builder', ['*', 'acme'], /stands alone/],
    ['an org that is not a slug', 'viewer', ['Acme'], /is not an org/],
    ['an org of one character', 'viewer', ['a'], /is not an org/],
    ['an org named twice', 'builder', ['acme', 'acme'], /twice/],
  ] as const)('refuses %s', (_, role, orgs, reason) => {
    spec.given([]).when(createPrincipal({ role, orgs })).thenThrows(InvalidAccessCommandError, (error) => {
      expect(error.field).toBe('orgs');
      expect(error.reason).toMatch(reason);
    });
  });

  it('refuses a role that does not exist', () => {
    spec.given([]).when(createPrincipal({ role: 'root' as never, orgs: [] })).thenThrows(InvalidAccessCommandError, invalidField('role'));
  });

  it.each([['an empty description', '  '], ['a description over 500 characters', 'd'.repeat(501)]])('refuses %s', (_, description) => {
    spec.given([]).when(createPrincipal({ description })).thenThrows(InvalidAccessCommandError, invalidField('description'));
  });
});

describe('access decider: roles', () => {
  it('changes role and orgs, recording what they were', () => {
    const command = changePrincipalRole();
    spec.given(principalHistory.created()).when(command).then([{
      type: 'PrincipalRoleChanged',
      data: { principalId: PRINCIPAL_ID, role: 'viewer', orgs: ['acme', 'globex'], previousRole: 'builder', previousOrgs: ['acme'] },
      metadata: metadataOf(command),
    }]);
  });

  it('changes nothing when the role and orgs are the same, in any order', () => {
    spec.given([principalCreated({ orgs: ['acme', 'globex'] })]).when(changePrincipalRole({ role: 'builder', orgs: ['globex', 'acme'] })).then([]);
  });

  it('changes the orgs of a disabled principal', () => {
    const command = changePrincipalRole({ role: 'builder', orgs: ['globex'] });
    spec.given(principalHistory.disabled()).when(command).then([{
      type: 'PrincipalRoleChanged', data: { principalId: PRINCIPAL_ID, role: 'builder', orgs: ['globex'], previousRole: 'builder', previousOrgs: ['acme'] }, metadata: metadataOf(command),
    }]);
  });

  it('refuses to change the role of an unknown principal (404)', () => {
    spec.given([]).when(changePrincipalRole()).thenThrows(PrincipalNotFoundError, { principalId: PRINCIPAL_ID });
  });

  it('refuses orgs that the new role cannot have', () => {
    spec.given(principalHistory.created()).when(changePrincipalRole({ role: 'admin', orgs: ['acme'] })).thenThrows(InvalidAccessCommandError, invalidField('orgs'));
  });

  it('refuses a principal changing its own role: another admin must', () => {
    const history = [principalCreated({ principalId: ADMIN, role: 'admin', orgs: [] })];
    spec.given(history).when(changePrincipalRole({ principalId: ADMIN, role: 'auditor', orgs: [] })).thenThrows(IllegalTransitionError, { command: 'ChangePrincipalRole' });
  });

  it('refuses a command that names another principal than the stream holds', () => {
    spec.given(principalHistory.created()).when(changePrincipalRole({ principalId: 'someone-else' })).thenThrows(IllegalTransitionError, (error) => {
      expect(error.reason).toContain('someone-else');
    });
  });
});

describe('access decider: disabling and enabling', () => {
  it('disables a principal with the reason given', () => {
    const command = disablePrincipal();
    spec.given(principalHistory.withToken()).when(command).then([
      { type: 'PrincipalDisabled', data: { principalId: PRINCIPAL_ID, reason: 'on leave' }, metadata: metadataOf(command) },
    ]);
  });

  it('changes nothing when disabling a disabled principal, or enabling an enabled one', () => {
    spec.given(principalHistory.disabled()).when(disablePrincipal()).then([]);
    spec.given(principalHistory.reenabled()).when(enablePrincipal()).then([]);
    spec.given(principalHistory.created()).when(enablePrincipal()).then([]);
  });

  it('enables a disabled principal', () => {
    const command = enablePrincipal({ reason: null });
    spec.given(principalHistory.disabled()).when(command).then([{ type: 'PrincipalEnabled', data: { principalId: PRINCIPAL_ID, reason: null }, metadata: metadataOf(command) }]);
  });

  it('refuses a principal disabling itself', () => {
    spec.given(principalHistory.created()).when(disablePrincipal({}, { actor: PRINCIPAL_ID })).thenThrows(IllegalTransitionError, { command: 'DisablePrincipal', fromStatus: 'enabled' });
  });

  it('refuses to disable or enable an unknown principal (404)', () => {
    spec.given([]).when(disablePrincipal()).thenThrows(PrincipalNotFoundError);
    spec.given([]).when(enablePrincipal()).thenThrows(PrincipalNotFoundError);
  });
});

describe('access decider: tokens', () => {
  it('issues a token: its id, the hash of its secret, label and expiry', () => {
    const command = issueApiToken();
    spec.given(principalHistory.withToken()).when(command).then([{
      type: 'ApiTokenIssued',
      data: { principalId: PRINCIPAL_ID, tokenId: OTHER_TOKEN_ID, hash: TOKEN_HASH, label: 'laptop', expiresAt: '2026-12-16T10:00:00.000Z' },
      metadata: metadataOf(command),
    }]);
  });

  it('issues a token that never expires', () => {
    const command = issueApiToken({ expiresAt: null, label: null });
    spec.given(principalHistory.created()).when(command).then([{
      type: 'ApiTokenIssued', data: { principalId: PRINCIPAL_ID, tokenId: OTHER_TOKEN_ID, hash: TOKEN_HASH, label: null, expiresAt: null }, metadata: metadataOf(command),
    }]);
  });

  it('refuses a token to a disabled principal, and gives one again once it is enabled', () => {
    spec.given(principalHistory.disabled()).when(issueApiToken()).thenThrows(PrincipalDisabledError, { principalId: PRINCIPAL_ID, code: 'principal-disabled' });
    spec.given(principalHistory.reenabled()).when(issueApiToken()).then([expect.objectContaining({ type: 'ApiTokenIssued' })]);
  });

  it('refuses a token to an unknown principal (404)', () => {
    spec.given([]).when(issueApiToken()).thenThrows(PrincipalNotFoundError);
  });

  it.each([
    ['a token id that is not 16 hex digits', { tokenId: '0123456789ABCDEF' }, 'tokenId'],
    ['a hash that is not a SHA-256 digest (a secret, say)', { hash: 'bo.ci-acme.0123456789abcdef.c2VjcmV0' }, 'hash'],
    ['an expiry before the token is issued', { expiresAt: '2026-11-16T09:59:59.000Z' }, 'expiresAt'],
    ['an expiry at the moment the token is issued', { expiresAt: '2026-11-16T10:00:00.000Z' }, 'expiresAt'],
    ['an expiry that is not ISO-8601', { expiresAt: 'next tuesday' }, 'expiresAt'],
    ['an empty label', { label: '' }, 'label'],
  ])('refuses %s', (_, data, field) => {
    spec.given(principalHistory.created()).when(issueApiToken(data)).thenThrows(InvalidAccessCommandError, invalidField(field));
  });

  it('refuses to issue a token id twice', () => {
    spec.given(principalHistory.revoked()).when(issueApiToken({ tokenId: TOKEN_ID })).thenThrows(IllegalTransitionError, (error) => {
      expect(error.reason).toBe(`token ${TOKEN_ID} was already issued`);
    });
  });

  it('revokes a token with the reason given', () => {
    const command = revokeApiToken();
    spec.given(principalHistory.withToken()).when(command).then([
      { type: 'ApiTokenRevoked', data: { principalId: PRINCIPAL_ID, tokenId: TOKEN_ID, reason: 'rotated' }, metadata: metadataOf(command) },
    ]);
  });

  it('revokes a token of a disabled principal', () => {
    spec.given(principalHistory.disabled()).when(revokeApiToken()).then([expect.objectContaining({ type: 'ApiTokenRevoked' })]);
  });

  it('changes nothing when revoking a revoked token', () => {
    spec.given(principalHistory.revoked()).when(revokeApiToken()).then([]);
  });

  it('refuses to revoke a token the principal does not have (404)', () => {
    spec.given(principalHistory.withToken()).when(revokeApiToken({ tokenId: OTHER_TOKEN_ID })).thenThrows(ApiTokenNotFoundError, {
      principalId: PRINCIPAL_ID, tokenId: OTHER_TOKEN_ID, code: 'api-token-not-found',
    });
  });
});

describe('access decider: evolve', () => {
  const known = (events: AccessEvent[]): KnownPrincipal => {
    const state = foldPrincipal(events);
    if (state.status === 'none') throw new Error('expected a known principal');
    return state;
  };

  it('records who created the principal, its tokens with who issued and revoked them, and why it was disabled', () => {
    const state = known([...principalHistory.revoked(), apiTokenIssued({ tokenId: OTHER_TOKEN_ID, label: null }), principalDisabled()]);
    expect(state).toMatchObject({
      status: 'disabled', principalId: PRINCIPAL_ID, role: 'builder', orgs: ['acme'], description: 'CI of acme', createdAt: CREATED_AT, createdBy: ADMIN,
      disabledAt: DISABLED_AT, disabledBy: ADMIN, disabledReason: 'left the company',
    });
    expect([...state.tokens.values()]).toEqual([
      { tokenId: TOKEN_ID, hash: TOKEN_HASH, label: 'ci runner', issuedAt: ISSUED_AT, issuedBy: ADMIN, expiresAt: null, revoked: true, revokedAt: REVOKED_AT, revokedBy: ADMIN, revokeReason: 'leaked in a log' },
      { tokenId: OTHER_TOKEN_ID, hash: TOKEN_HASH, label: null, issuedAt: ISSUED_AT, issuedBy: ADMIN, expiresAt: null, revoked: false, revokedAt: null, revokedBy: null, revokeReason: null },
    ]);
  });

  it('takes the new role and orgs, and clears the disabling once enabled', () => {
    const state = known([...principalHistory.reenabled(), principalRoleChanged()]);
    expect(state).toMatchObject({ status: 'enabled', role: 'viewer', orgs: ['acme', 'globex'], disabledAt: null, disabledBy: null, disabledReason: null });
  });

  it('ignores events before the principal exists, a second creation and a second revocation', () => {
    expect(foldPrincipal([apiTokenIssued(), principalDisabled()])).toEqual({ status: 'none' });
    const state = known([...principalHistory.revoked(), principalCreated({ role: 'admin', orgs: [] }), apiTokenRevoked({}, { actor: 'someone-else', occurredAt: '2026-11-16T11:00:00.000Z' })]);
    expect(state.role).toBe('builder');
    expect(state.tokens.get(TOKEN_ID)).toMatchObject({ revokedBy: ADMIN, revokedAt: REVOKED_AT });
  });

  it('builds new states without touching the given ones', () => {
    let state: PrincipalState = deepFreeze(foldPrincipal([]));
    for (const event of [...principalHistory.reenabled(), principalRoleChanged(), apiTokenRevoked()]) {
      const before = JSON.stringify(state, (_, value) => (value instanceof Map ? [...value] : value));
      const next = accessDecider.evolve(state, deepFreeze(event));
      expect(JSON.stringify(state, (_, value) => (value instanceof Map ? [...value] : value))).toBe(before);
      state = next;
    }
  });

  it('names the stream after the principal', () => {
    expect(principalStream(PRINCIPAL_ID)).toBe('principal-ci-acme');
  });
});

describe('token standing: what verifying a token needs of the stream', () => {
  const NOW = '2026-11-16T12:00:00.000Z';
  const standing = (events: AccessEvent[], tokenId = TOKEN_ID, at = NOW) => tokenStanding(credentialsOf(foldPrincipal(events)), tokenId, at);

  it('gives the principal and the hash to compare for a live token', () => {
    expect(standing(principalHistory.withToken())).toEqual({ usable: true, principal: { id: PRINCIPAL_ID, role: 'builder', orgs: ['acme'] }, hash: TOKEN_HASH });
  });

  it('gives the role and orgs in force now', () => {
    expect(standing([...principalHistory.withToken(), principalRoleChanged()])).toMatchObject({ principal: { role: 'viewer', orgs: ['acme', 'globex'] } });
  });

  it.each([
    ['an unknown principal', [], TOKEN_ID, NOW, 'unknown-principal'],
    ['an unknown token', principalHistory.withToken(), OTHER_TOKEN_ID, NOW, 'unknown-token'],
    ['a revoked token', principalHistory.revoked(), TOKEN_ID, NOW, 'revoked'],
    ['a token of a disabled principal', principalHistory.disabled(), TOKEN_ID, NOW, 'disabled'],
    ['a token at the moment it expires', [principalCreated(), apiTokenIssued({ expiresAt: NOW })], TOKEN_ID, NOW, 'expired'],
  ] as const)('refuses %s', (_, events, tokenId, at, reason) => {
    expect(standing([...events], tokenId, at)).toEqual({ usable: false, reason });
  });

  it('accepts a token until it expires and again once its principal is enabled', () => {
    expect(standing([principalCreated(), apiTokenIssued({ expiresAt: '2026-11-16T12:00:00.001Z' })])).toMatchObject({ usable: true });
    expect(standing(principalHistory.reenabled())).toMatchObject({ usable: true });
  });

  it('exposes no more than the hash, the revocation and the expiry of each token', () => {
    const credentials = credentialsOf(foldPrincipal(principalHistory.withToken()));
    expect([...credentials!.tokens]).toEqual([[TOKEN_ID, { hash: TOKEN_HASH, revoked: false, expiresAt: null }]]);
    expect(credentialsOf(foldPrincipal([]))).toBeNull();
  });
});
