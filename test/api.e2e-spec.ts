import { AppsUnderTest, http } from './support/apps';

const valid = () => ({ org: 'acme', repo: 'hello', source: { git: { url: 'https://git.example.com/acme/hello.git', ref: 'main' } } });
const UNKNOWN_ID = '01a21b76-39e8-7c1d-993f-50fcf8127bdd';

describe('HTTP API through both started apps', () => {
  const apps = new AppsUnderTest();
  let commands: string;
  let queries: string;

  beforeAll(async () => {
    // The command API alone: builds stay queued, so every status change here is the test's own.
    await apps.start({ EXECUTOR_ENABLED: 'false' });
    commands = apps.orchestrator.url;
    queries = apps.projector.url;
  });
  afterAll(() => apps.stop());

  const head = async (): Promise<number> => (await http('GET', `${commands}/health`)).body.eventStore.headPosition;
  const queue = async (body: object = valid(), headers: Record<string, string> = {}) => http('POST', `${commands}/builds`, body, headers);
  const view = async (buildId: string, position: number) => http('GET', `${queries}/builds/${buildId}?minPosition=${position}`);

  describe('queueing and reading a build', () => {
    it('queues a build (202) and the projector serves its status once it has caught up to the returned position', async () => {
      const queued = await queue({ ...valid(), accountType: 'user', tag: 'v1.2', priority: 7, dockerfile: 'docker/Dockerfile' });
      expect(queued.status).toBe(202);
      expect(queued.body).toEqual({ buildId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'queued', position: expect.any(Number) });
      const read = await view(queued.body.buildId, queued.body.position);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({
        buildId: queued.body.buildId, org: 'acme', repo: 'hello', accountType: 'user', status: 'queued', tag: 'v1.2', priority: 7,
        dockerfile: 'docker/Dockerfile', source: { git: { url: 'https://git.example.com/acme/hello.git', ref: 'main' } },
        attempt: 1, lastPosition: queued.body.position, queuedPosition: queued.body.position,
      });
    });

    it('applies defaults: account type org, ref HEAD, Dockerfile, tag latest, priority 5', async () => {
      const queued = await queue({ org: 'acme', repo: 'defaults', source: { git: { url: '/srv/git/defaults' } } });
      const read = await view(queued.body.buildId, queued.body.position);
      expect(read.body).toMatchObject({ accountType: 'org', source: { git: { ref: 'HEAD' } }, dockerfile: 'Dockerfile', tag: 'latest', priority: 5 });
    });

    it('serves the event history with positions, types, times, actors, correlation and causation ids', async () => {
      const queued = await queue(valid(), { 'x-correlation-id': 'incident-drill-42' });
      const canceled = await http('POST', `${commands}/builds/${queued.body.buildId}/cancel`, { reason: 'drill' });
      expect(canceled.status).toBe(202);
      const history = await http('GET', `${queries}/builds/${queued.body.buildId}/events`);
      expect(history.status).toBe(200);
      expect(history.body.map((e: { type: string }) => e.type)).toEqual(['BuildQueued', 'BuildCanceled']);
      expect(history.body[0]).toMatchObject({
        globalPosition: queued.body.position, streamRevision: 0, actor: 'e2e-builder', correlationId: 'incident-drill-42', schemaVersion: 2,
        occurredAt: expect.stringMatching(/Z$/), eventId: expect.any(String), causationId: expect.any(String),
      });
      expect(history.body[1]).toMatchObject({ globalPosition: canceled.body.position, data: { reason: 'drill', canceledBy: 'e2e-builder' } });
    });
  });

  describe('idempotent submission', () => {
    it('returns the same build for a repeated Idempotency-Key and appends nothing', async () => {
      const first = await queue(valid(), { 'idempotency-key': 'release-2026-11-16' });
      const before = await head();
      const again = await queue(valid(), { 'idempotency-key': 'release-2026-11-16' });
      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await head()).toBe(before);
    });

    it('scopes keys per org', async () => {
      const a = await queue(valid(), { 'idempotency-key': 'shared-key' });
      const b = await queue({ ...valid(), org: 'globex' }, { 'idempotency-key': 'shared-key' });
      expect(a.body.buildId).not.toBe(b.body.buildId);
    });

    it('refuses a key reused with a different body (422) and appends nothing', async () => {
      await queue(valid(), { 'idempotency-key': 'reused-key' });
      const before = await head();
      const other = await queue({ ...valid(), tag: 'other' }, { 'idempotency-key': 'reused-key' });
      expect(other.status).toBe(422);
      expect(other.body).toMatchObject({ type: expect.stringContaining('idempotency-key-reused'), errors: [{ field: 'Idempotency-Key' }] });
      expect(await head()).toBe(before);
    });
  });

  describe('cancel', () => {
    it('cancels a queued build, records who did it, and refuses a second cancel with 409', async () => {
      const queued = await queue();
      const canceled = await http('POST', `${commands}/builds/${queued.body.buildId}/cancel`);
      expect(canceled.status).toBe(202);
      expect(canceled.body).toMatchObject({ buildId: queued.body.buildId, status: 'canceled' });
      const read = await view(queued.body.buildId, canceled.body.position);
      expect(read.body).toMatchObject({ status: 'canceled', canceledBy: 'e2e-builder', timestamps: { canceledAt: expect.any(String) } });
      const again = await http('POST', `${commands}/builds/${queued.body.buildId}/cancel`);
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ command: 'CancelBuild', fromStatus: 'canceled', type: expect.stringContaining('illegal-transition') });
    });

    it('answers 404 for an unknown build and 400 for a malformed id', async () => {
      expect((await http('POST', `${commands}/builds/${UNKNOWN_ID}/cancel`)).status).toBe(404);
      const bad = await http('POST', `${commands}/builds/not-an-id/cancel`);
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([{ field: 'buildId', message: expect.any(String) }]);
    });
  });

  describe('bad input is refused with problem details and nothing is appended', () => {
    const cases: [string, () => Promise<{ status: number; body: any; headers: Headers }>, number, string | null][] = [
      ['malformed JSON', () => http('POST', `${commands}/builds`, '{"org":'), 400, null],
      ['a JSON array body', () => http('POST', `${commands}/builds`, '[]'), 400, 'body'],
      ['a JSON string body', () => http('POST', `${commands}/builds`, '"x"'), 400, 'body'],
      ['a wrong type', () => queue({ ...valid(), org: 123 }), 400, 'org'],
      ['an org that is not a slug', () => queue({ ...valid(), org: 'Acme Corp' }), 400, 'org'],
      ['a missing repo', () => queue({ org: 'acme', source: valid().source }), 400, 'repo'],
      ['an unknown field', () => queue({ ...valid(), privileged: true }), 400, 'privileged'],
      ['an unknown nested field', () => queue({ ...valid(), source: { git: { url: '/srv/x', ref: 'main', depth: 1 } } }), 400, 'source.git.depth'],
      ['a missing source', () => queue({ org: 'acme', repo: 'hello' }), 400, 'source'],
      ['an unsupported URL scheme', () => queue({ ...valid(), source: { git: { url: 'http://git.example.com/x.git', ref: 'main' } } }), 400, 'source.git.url'],
      ['a password inside the URL', () => queue({ ...valid(), source: { git: { url: 'https://bob:hunter2@git.example.com/x.git', ref: 'main' } } }), 400, 'source.git.url'],
      ['a ref that looks like an option', () => queue({ ...valid(), source: { git: { url: '/srv/x', ref: '--upload-pack=evil' } } }), 400, 'source.git.ref'],
      ['a Dockerfile outside the context', () => queue({ ...valid(), dockerfile: '../etc/passwd' }), 400, 'dockerfile'],
      ['a priority out of range', () => queue({ ...valid(), priority: 10 }), 400, 'priority'],
      ['a fractional priority', () => queue({ ...valid(), priority: 1.5 }), 400, 'priority'],
      ['an unknown account type', () => queue({ ...valid(), accountType: 'team' }), 400, 'accountType'],
      ['an invalid tag', () => queue({ ...valid(), tag: '-latest' }), 400, 'tag'],
      ['a malformed Idempotency-Key', () => queue(valid(), { 'idempotency-key': 'has space' }), 400, 'Idempotency-Key'],
      ['a body that is not JSON', () => http('POST', `${commands}/builds`, 'org=acme', { 'content-type': 'text/plain' }), 415, null],
      ['a body over the size limit', () => queue({ ...valid(), padding: 'x'.repeat(70 * 1024) }), 413, null],
      ['an unknown route', () => http('POST', `${commands}/nowhere`, valid()), 404, null],
      ['a cancel body with an unknown field', () => http('POST', `${commands}/builds/${UNKNOWN_ID}/cancel`, { force: true }), 400, 'force'],
    ];

    it.each(cases)('%s', async (_, send, status, field) => {
      const before = await head();
      const response = await send();
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ type: expect.stringMatching(/^urn:build-orchestrator:problem:/), title: expect.any(String), status, detail: expect.any(String) });
      if (field) expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(await head()).toBe(before);
    });
  });

  describe('projector queries', () => {
    it('lists builds newest first with filters and cursor pagination', async () => {
      const org = `pager${Date.now().toString(36)}`;
      const ids: string[] = [];
      let position = 0;
      for (let i = 0; i < 5; i++) {
        const queued = await queue({ ...valid(), org, repo: i % 2 ? 'odd' : 'even' });
        ids.push(queued.body.buildId);
        position = queued.body.position;
      }
      const canceled = await http('POST', `${commands}/builds/${ids[0]}/cancel`);
      await view(ids[0], Math.max(position, canceled.body.position));
      const page1 = await http('GET', `${queries}/builds?org=${org}&limit=2`);
      expect(page1.body.items.map((b: { buildId: string }) => b.buildId)).toEqual([ids[4], ids[3]]);
      const page2 = await http('GET', `${queries}/builds?org=${org}&limit=2&cursor=${page1.body.nextCursor}`);
      const page3 = await http('GET', `${queries}/builds?org=${org}&limit=2&cursor=${page2.body.nextCursor}`);
      expect(page2.body.items.map((b: { buildId: string }) => b.buildId)).toEqual([ids[2], ids[1]]);
      expect(page3.body).toEqual({ items: [expect.objectContaining({ buildId: ids[0] })], nextCursor: null });
      const even = await http('GET', `${queries}/builds?org=${org}&repo=even`);
      expect(even.body.items).toHaveLength(3);
      const canceledOnly = await http('GET', `${queries}/builds?org=${org}&status=canceled`);
      expect(canceledOnly.body.items.map((b: { buildId: string }) => b.buildId)).toEqual([ids[0]]);
      const either = await http('GET', `${queries}/builds?org=${org}&status=canceled,queued`);
      expect(either.body.items).toHaveLength(5);
    });

    it.each([
      ['an unknown filter', '/builds?colour=red', 400, 'colour'],
      ['an unknown status', '/builds?status=done', 400, 'status'],
      ['a limit over 200', '/builds?limit=500', 400, 'limit'],
      ['a non-numeric limit', '/builds?limit=ten', 400, 'limit'],
      ['a forged cursor', `/builds?cursor=${Buffer.from('x:1').toString('base64url')}`, 400, 'cursor'],
      ['a malformed build id', '/builds/123', 400, 'buildId'],
      ['an unknown build', `/builds/${UNKNOWN_ID}`, 404, null],
      ['the history of an unknown build', `/builds/${UNKNOWN_ID}/events`, 404, null],
    ])('refuses %s', async (_, path, status, field) => {
      const response = await http('GET', `${queries}${path}`);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      if (field) expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it('reports each projection with its checkpoint and lag behind the head', async () => {
      const queued = await queue();
      await view(queued.body.buildId, queued.body.position);
      const projections = await http('GET', `${queries}/projections`);
      expect(projections.body.headPosition).toBeGreaterThanOrEqual(queued.body.position);
      expect(projections.body.projections.map((projection: { name: string }) => projection.name)).toEqual(['build-status', 'queue', 'routes', 'build-stats', 'incidents', 'failure-breakdown']);
      for (const projection of projections.body.projections) {
        expect(projection).toEqual(expect.objectContaining({ version: expect.any(Number), checkpoint: expect.any(Number), lagEvents: expect.any(Number), state: 'running' }));
        expect(projection.lagEvents).toBe(projections.body.headPosition - projection.checkpoint);
      }
    });

    it('answers health on both apps', async () => {
      expect((await http('GET', `${commands}/health`)).body).toMatchObject({ status: 'ok', app: 'orchestrator' });
      expect((await http('GET', `${queries}/health`)).body).toMatchObject({ status: 'ok', app: 'projector' });
    });
  });
});
