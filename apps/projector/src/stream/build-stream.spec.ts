import { BuildEvent, buildStream, OrgScope } from '@lib/domain';
import { buildPushed, buildQueued, buildStarted } from '@lib/domain/testing/build.fixtures';
import { RecordedEvent } from '@lib/event-store';
import { statusEventsOf, streamedOrgs } from './build-stream.controller';

const UNSCOPED: OrgScope = { kind: 'all' };
const ACME: OrgScope = { kind: 'orgs', orgs: new Set(['acme']) };

const recorded = (events: readonly BuildEvent[]): RecordedEvent[] =>
  events.map((event, index) => ({ ...event, streamName: buildStream(event.data.buildId), streamRevision: 0, globalPosition: index + 1, recordedAt: '2031-01-01T00:00:00.000Z' }));
const idsIn = (text: string): number[] => [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));

describe('the live stream of build status changes, by the scope of the principal', () => {
  const batch = recorded([
    buildQueued({ buildId: 'a1', org: 'acme' }),
    buildQueued({ buildId: 'g1', org: 'globex' }),
    buildStarted({ buildId: 'a1', org: 'acme' }),
    buildPushed({ buildId: 'i1', org: 'initech' }),
  ]);

  it('given a scoped principal asking for no org, carries its orgs only', () => {
    expect(idsIn(statusEventsOf(batch, streamedOrgs(ACME, undefined)))).toEqual([1, 3]);
    expect(statusEventsOf(batch, streamedOrgs({ kind: 'orgs', orgs: new Set() }, undefined))).toBe('');
  });

  it('given an unscoped principal, carries every org, or the orgs asked for', () => {
    expect(idsIn(statusEventsOf(batch, streamedOrgs(UNSCOPED, undefined)))).toEqual([1, 2, 3, 4]);
    expect(idsIn(statusEventsOf(batch, streamedOrgs(UNSCOPED, ['globex', 'initech'])))).toEqual([2, 4]);
  });

  it('refuses, before the stream opens, an org asked for out of scope (403 naming org), even beside one in scope', () => {
    const forbidden = { status: 403, code: 'forbidden-org', detail: 'This principal may not read builds of org "globex"', errors: [{ field: 'org', message: expect.any(String) }] };
    expect(() => streamedOrgs(ACME, ['acme', 'globex'])).toThrow(expect.objectContaining(forbidden));
    expect(idsIn(statusEventsOf(batch, streamedOrgs(ACME, ['acme'])))).toEqual([1, 3]);
  });

  it('writes each change as an SSE event whose id is its position', () => {
    expect(statusEventsOf(batch.slice(0, 1), null)).toBe(`id: 1\nevent: status\ndata: ${JSON.stringify({
      buildId: 'a1', org: 'acme', repo: 'hello-world', accountType: 'org', status: 'queued', event: 'BuildQueued', attempt: null,
      backend: null, registryEndpoint: null, failureClass: null, occurredAt: '2026-11-16T09:00:00.000Z', position: 1,
    })}\n\n`);
  });
});
