import { BuildNotFoundError, OrgScope, Principal, Role, scopeOf } from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';
import { ACME_ONLY, BUILDS, NO_ORG, TOKEN_HASH, TwoOrgs, twoOrgs, UNSCOPED } from '../access/testing/two-orgs';
import { AuditEventsHandler, AuditEventsQuery, GetBuildAsOfHandler, GetBuildAsOfQuery, GetBuildAuditHistoryHandler, GetBuildAuditHistoryQuery } from './audit-queries';
import { AuditCriteria, auditReachOf } from './audit-scan';

let installation: TwoOrgs;
let log: RecordedEvent[];
beforeAll(async () => {
  installation = await twoOrgs();
  log = await installation.store.readAll();
});
afterAll(() => installation.close());

const notFound = (buildId: string) => ({ constructor: BuildNotFoundError, message: `Build ${buildId} does not exist` });

describe('a build as of a point, and its audit history, by the scope of the principal asking', () => {
  const asOf = (buildId: string, point: string, scope: OrgScope) => new GetBuildAsOfHandler(installation.store).execute(new GetBuildAsOfQuery(buildId, point, scope));
  const history = (buildId: string, point: string | undefined, scope: OrgScope) =>
    new GetBuildAuditHistoryHandler(installation.store).execute(new GetBuildAuditHistoryQuery(buildId, point, scope));

  it('given its org in scope, shows it, and says when it did not exist yet', async () => {
    expect(await asOf(BUILDS.acme1, '2026-11-16T09:01:30Z', ACME_ONLY)).toMatchObject({ buildId: BUILDS.acme1, status: 'queued' });
    expect((await history(BUILDS.acme1, undefined, ACME_ONLY)).events.map((event) => [event.type, event.actor])).toEqual([['BuildQueued', 'user:alice'], ['BuildStarted', 'user:alice']]);
    await expect(asOf(BUILDS.acme1, '1', ACME_ONLY)).rejects.toThrow(`Build ${BUILDS.acme1} did not exist as of 1`);
  });

  it('given another org, is the same not-found as a build that does not exist, before or after it was queued', async () => {
    for (const point of ['2026-11-16T09:30:00Z', '1']) {
      await expect(asOf(BUILDS.globex1, point, ACME_ONLY)).rejects.toMatchObject(notFound(BUILDS.globex1));
      await expect(history(BUILDS.globex1, point, ACME_ONLY)).rejects.toMatchObject(notFound(BUILDS.globex1));
    }
    await expect(history(BUILDS.globex1, undefined, ACME_ONLY)).rejects.toMatchObject(notFound(BUILDS.globex1));
    await expect(history(BUILDS.acme1, undefined, NO_ORG)).rejects.toMatchObject(notFound(BUILDS.acme1));
  });

  it('given every org, shows any build', async () => {
    expect(await asOf(BUILDS.globex1, '2026-11-16T09:30:00Z', UNSCOPED)).toMatchObject({ org: 'globex', status: 'failed' });
    expect((await history(BUILDS.globex1, undefined, UNSCOPED)).events).toHaveLength(3);
  });
});

describe('the audit export, by the role and scope of the principal reading it', () => {
  const principal = (role: Role, orgs: string[] = []): Principal => ({ id: `a-${role}`, role, orgs });
  const read = async (reader: Principal, criteria: AuditCriteria = {}): Promise<RecordedEvent[]> => {
    const scan = await new AuditEventsHandler(installation.store).execute(new AuditEventsQuery(criteria, auditReachOf(reader, scopeOf(reader))));
    const events: RecordedEvent[] = [];
    for await (const page of scan.pages) events.push(...page);
    return events;
  };
  const streamsOf = (events: readonly RecordedEvent[]) => [...new Set(events.map((event) => event.streamName.replace(/-.*/, '-')))].sort();
  const orgsOf = (events: readonly RecordedEvent[]) => [...new Set(events.map((event) => event.data.org))].sort();
  const buildEventsOf = (org: string) => log.filter((event) => event.streamName.startsWith('build-') && event.data.org === org);

  it('given a viewer or builder of acme, holds acme\'s build events only: no other org, no routes, executors or principals', async () => {
    const events = await read(principal('viewer', ['acme']));
    expect(events).toEqual(buildEventsOf('acme'));
    expect(await read(principal('builder', ['acme']))).toEqual(buildEventsOf('acme'));
  });

  it('given a builder of every org (*), holds every build event and nothing else', async () => {
    const events = await read(principal('builder', ['*']));
    expect(streamsOf(events)).toEqual(['build-']);
    expect(orgsOf(events)).toEqual(['acme', 'globex']);
  });

  it('given an SRE, holds the whole log but the principals\' streams (their token hashes)', async () => {
    const events = await read(principal('sre'));
    expect(events).toEqual(log.filter((event) => !event.streamName.startsWith('principal-')));
    expect(JSON.stringify(events)).not.toContain(TOKEN_HASH);
  });

  it('given an auditor, holds the whole log, principals included', async () => {
    expect(streamsOf(log)).toEqual(['backend-', 'build-', 'executor-', 'principal-']);
    expect(await read(principal('auditor'))).toEqual(log);
  });

  it('refuses an org filter out of scope (403 naming org), and narrows with one in scope', async () => {
    await expect(read(principal('viewer', ['acme']), { org: 'globex' })).rejects.toMatchObject({ status: 403, code: 'forbidden-org', errors: [{ field: 'org', message: expect.any(String) }] });
    expect(await read(principal('viewer', ['acme', 'globex']), { org: 'globex' })).toEqual(buildEventsOf('globex'));
    expect(await read(principal('auditor'), { org: 'globex' })).toEqual(buildEventsOf('globex'));
  });

  it('resumes after the position of the last line received: what the reader may not see is skipped, the cursor still advances', async () => {
    const viewer = principal('viewer', ['acme']);
    const first = await read(viewer, { limit: 1 });
    const rest = await read(viewer, { after: first[0].globalPosition });
    expect([...first, ...rest]).toEqual(buildEventsOf('acme'));
    const last = rest[rest.length - 1].globalPosition;
    expect(await read(viewer, { after: last })).toEqual([]);
    // Positions stay those of the whole log: globex's and the others' lie in the gaps.
    expect(rest.map((event) => event.globalPosition)).toEqual(buildEventsOf('acme').slice(1).map((event) => event.globalPosition));
  });
});
