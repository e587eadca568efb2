import { deterministicUuid, incidentEventIdOf, incidentIdOf } from './incident.ids';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('deterministic ids', () => {
  it('given parts, then the id is UUID-shaped with version 8 and the RFC 4122 variant', () => {
    for (const parts of [[], [''], ['incident', 'push-failures', 'new-backend', 'e1'], ['é', '\u0000', '🙂']]) {
      expect(deterministicUuid(...parts)).toMatch(UUID_V8);
    }
  });

  it('given the same parts twice, then the same id; a change anywhere gives another', () => {
    const id = deterministicUuid('incident', 'push-failures', 'new-backend', 'e1');
    expect(deterministicUuid('incident', 'push-failures', 'new-backend', 'e1')).toBe(id);
    expect(deterministicUuid('incident', 'push-failures', 'new-backend', 'e2')).not.toBe(id);
    expect(deterministicUuid('incident', 'push-failures', 'legacy-backend', 'e1')).not.toBe(id);
  });

  it('given parts that join to the same text, then the ids still differ (the boundaries count)', () => {
    expect(deterministicUuid('a-b', 'c')).not.toBe(deterministicUuid('a', 'b-c'));
    expect(deterministicUuid('ab')).not.toBe(deterministicUuid('a', 'b'));
  });

  it('is pinned (checked against Python hashlib): the ids of incidents already in a log must not change with a refactoring', () => {
    expect(deterministicUuid('incident', 'auth-failures', 'org', 'e0000000-0000-4000-8000-000000000001')).toBe('6425a7c9-b1f5-8f5a-b9c0-ce56c472d663');
  });

  it('names incidents by rule, value and trigger, and their events by trigger and index', () => {
    expect(incidentIdOf('auth-failures', 'org', 'e1')).toBe(deterministicUuid('incident', 'auth-failures', 'org', 'e1'));
    expect(incidentEventIdOf('e1', 3)).toBe(deterministicUuid('incident-event', 'e1', '3'));
  });
});
