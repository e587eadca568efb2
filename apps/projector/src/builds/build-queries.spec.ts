import { BuildNotFoundError } from '@lib/domain';
import { ACME_ONLY, BUILDS, NO_ORG, TwoOrgs, twoOrgs, UNSCOPED } from '../access/testing/two-orgs';
import { BuildStatusView } from '../projections/build-status.projection';
import { GetBuildHandler, GetBuildHistoryHandler, GetBuildHistoryQuery, GetBuildQuery, ListBuildsHandler, ListBuildsQuery } from './build-queries';
import { ListBuildsQueryDto } from './list-builds.dto';

let installation: TwoOrgs;
beforeAll(async () => {
  installation = await twoOrgs();
});
afterAll(() => installation.close());

const notFound = (buildId: string) => ({ constructor: BuildNotFoundError, code: 'build-not-found', message: `Build ${buildId} does not exist` });
const forbiddenOrg = (org: string) => ({
  status: 403, code: 'forbidden-org', detail: `This principal may not read builds of org "${org}"`, errors: [{ field: 'org', message: 'not one of the orgs this principal may read' }],
});

describe('a build, by the scope of the principal asking', () => {
  const get = (buildId: string, scope = UNSCOPED) => new GetBuildHandler(installation.readStore).execute(new GetBuildQuery(buildId, scope));
  const events = (buildId: string, scope = UNSCOPED) => new GetBuildHistoryHandler(installation.store).execute(new GetBuildHistoryQuery(buildId, scope));

  it('given its org in scope, is there', async () => {
    expect(await get(BUILDS.acme1, ACME_ONLY)).toMatchObject({ buildId: BUILDS.acme1, org: 'acme', status: 'running' });
    expect((await events(BUILDS.acme1, ACME_ONLY)).map((entry) => entry.type)).toEqual(['BuildQueued', 'BuildStarted']);
  });

  it('given another org, is the same not-found as a build that does not exist', async () => {
    const missing = 'c0000000-0000-4000-8000-000000000000';
    await expect(get(BUILDS.globex1, ACME_ONLY)).rejects.toMatchObject(notFound(BUILDS.globex1));
    await expect(get(missing, ACME_ONLY)).rejects.toMatchObject(notFound(missing));
    await expect(events(BUILDS.globex1, ACME_ONLY)).rejects.toMatchObject(notFound(BUILDS.globex1));
    await expect(events(missing, ACME_ONLY)).rejects.toMatchObject(notFound(missing));
  });

  it('given no org at all (an anonymous request), is never there', async () => {
    await expect(get(BUILDS.acme1, NO_ORG)).rejects.toMatchObject(notFound(BUILDS.acme1));
    await expect(events(BUILDS.acme1, NO_ORG)).rejects.toMatchObject(notFound(BUILDS.acme1));
  });

  it('given every org, is there whatever its org', async () => {
    expect(await get(BUILDS.globex1)).toMatchObject({ org: 'globex', status: 'failed' });
    expect(await events(BUILDS.globex1)).toHaveLength(3);
  });
});

describe('the list of builds, by the scope of the principal asking', () => {
  const list = async (filter: ListBuildsQueryDto, scope = UNSCOPED) => {
    const page = await new ListBuildsHandler(installation.readStore).execute(new ListBuildsQuery(filter, scope));
    return { ids: page.items.map((build: BuildStatusView) => build.buildId), nextCursor: page.nextCursor };
  };

  it('without an org filter, holds only the orgs in scope, paged as ever', async () => {
    expect((await list({}, ACME_ONLY)).ids).toEqual([BUILDS.acme2, BUILDS.acme1]);
    const first = await list({ limit: 1 }, ACME_ONLY);
    expect(first.ids).toEqual([BUILDS.acme2]);
    expect(await list({ limit: 1, cursor: first.nextCursor! }, ACME_ONLY)).toEqual({ ids: [BUILDS.acme1], nextCursor: null });
    expect((await list({ status: ['queued'] }, ACME_ONLY)).ids).toEqual([BUILDS.acme2]);
  });

  it('with an org filter in scope, holds that org', async () => {
    expect((await list({ org: 'acme', backend: ['docker-primary'] }, ACME_ONLY)).ids).toEqual([BUILDS.acme1]);
  });

  it('refuses an org filter out of scope (403 naming org), whether the org has builds or not: filters cannot widen the scope', async () => {
    await expect(list({ org: 'globex' }, ACME_ONLY)).rejects.toMatchObject(forbiddenOrg('globex'));
    await expect(list({ org: 'nobody' }, ACME_ONLY)).rejects.toMatchObject(forbiddenOrg('nobody'));
  });

  it('given no org at all, is empty', async () => {
    expect(await list({}, NO_ORG)).toEqual({ ids: [], nextCursor: null });
  });

  it('given every org, holds every org, and filters by any', async () => {
    expect((await list({})).ids).toEqual([BUILDS.globex3, BUILDS.globex2, BUILDS.acme2, BUILDS.globex1, BUILDS.acme1]);
    expect((await list({ org: 'globex', status: ['queued'] })).ids).toEqual([BUILDS.globex2]);
  });
});
