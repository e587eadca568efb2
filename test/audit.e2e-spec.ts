import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsUnderTest, http, RunningApp, startApp, stopApp } from './support/apps';

const UNKNOWN_ID = '01a21b76-39e8-7c1d-993f-50fcf8127bdd';
const CLI = join(__dirname, '../dist/apps/projector/src/cli.js');
const LINE_FIELDS = ['streamName', 'streamRevision', 'globalPosition', 'type', 'data', 'metadata', 'recordedAt'];

const request = (org: string, repo = 'hello') => ({ org, repo, source: { git: { url: 'https://git.example.com/acme/hello.git', ref: 'main' } } });

/** The projector CLI as a process on a data directory; resolves with its exit code and output. */
const projectorCli = (dataDir: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, DATA_DIR: dataDir } });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk) => (out.stdout += chunk));
    child.stderr.on('data', (chunk) => (out.stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
  });

const ndjson = (text: string): any[] => text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));

describe('audit through the started apps', () => {
  const apps = new AppsUnderTest();
  let commands: string;
  let queries: string;
  const org = `audit${Date.now().toString(36)}`;
  const other = `${org}x`;
  /** In `org`: A queued then canceled, B queued; in `other`: C queued. */
  const builds = { a: '', b: '', c: '' };
  const positions = { aQueued: 0, aCanceled: 0, b: 0, c: 0 };
  const liveViews: Record<string, any> = {};

  beforeAll(async () => {
    await apps.start({ EXECUTOR_ENABLED: 'false' });
    commands = apps.orchestrator.url;
    queries = apps.projector.url;
    const a = await http('POST', `${commands}/builds`, request(org), { 'x-correlation-id': 'audit-drill-1' });
    [builds.a, positions.aQueued] = [a.body.buildId, a.body.position];
    liveViews.aQueued = (await http('GET', `${queries}/builds/${builds.a}?minPosition=${positions.aQueued}`)).body;
    const c = await http('POST', `${commands}/builds`, request(other));
    [builds.c, positions.c] = [c.body.buildId, c.body.position];
    const canceled = await http('POST', `${commands}/builds/${builds.a}/cancel`, { reason: 'audit drill' });
    positions.aCanceled = canceled.body.position;
    const b = await http('POST', `${commands}/builds`, request(org, 'second'));
    [builds.b, positions.b] = [b.body.buildId, b.body.position];
    liveViews.aCanceled = (await http('GET', `${queries}/builds/${builds.a}?minPosition=${positions.b}`)).body;
  });
  afterAll(() => apps.stop());

  const expectProblem = (response: { status: number; headers: Headers; body: any }, status: number, field: string | null) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    if (field) expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  };

  describe('GET /builds/:buildId/history', () => {
    it('lists every event with positions, type, times, actor, correlation and causation ids', async () => {
      const history = await http('GET', `${queries}/builds/${builds.a}/history`);
      expect(history.status).toBe(200);
      expect(history.body).toMatchObject({ buildId: builds.a, streamName: `build-${builds.a}`, asOf: null });
      expect(history.body.events).toEqual([
        expect.objectContaining({
          globalPosition: positions.aQueued, streamRevision: 0, type: 'BuildQueued', actor: 'e2e-builder', correlationId: 'audit-drill-1',
          causationId: expect.any(String), causedBy: null, occurredAt: expect.stringMatching(/Z$/), recordedAt: expect.stringMatching(/Z$/),
          eventId: expect.stringMatching(/^[0-9a-f-]{36}$/), schemaVersion: expect.any(Number), data: expect.objectContaining({ org }),
        }),
        expect.objectContaining({ globalPosition: positions.aCanceled, streamRevision: 1, type: 'BuildCanceled', data: expect.objectContaining({ reason: 'audit drill' }) }),
      ]);
      const events = await http('GET', `${queries}/builds/${builds.a}/events`);
      expect(history.body.events.map((e: any) => e.eventId)).toEqual(events.body.map((e: any) => e.eventId));
    });

    it('stops at asOf, and refuses what it cannot answer', async () => {
      const early = await http('GET', `${queries}/builds/${builds.a}/history?asOf=${positions.aQueued}`);
      expect(early.body).toMatchObject({ asOf: String(positions.aQueued), events: [expect.objectContaining({ type: 'BuildQueued' })] });
      expect(early.body.events).toHaveLength(1);
      const before = await http('GET', `${queries}/builds/${builds.a}/history?asOf=2000-01-01T00:00:00Z`);
      expectProblem(before, 404, null);
      expect(before.body.detail).toBe(`Build ${builds.a} did not exist as of 2000-01-01T00:00:00Z`);
      expectProblem(await http('GET', `${queries}/builds/${UNKNOWN_ID}/history`), 404, null);
      expectProblem(await http('GET', `${queries}/builds/${builds.a}/history?asOf=soon`), 400, 'asOf');
      expectProblem(await http('GET', `${queries}/builds/${builds.a}/history?limit=1`), 400, 'limit');
      expectProblem(await http('GET', `${queries}/builds/nope/history`), 400, 'buildId');
    });
  });

  describe('GET /builds/:buildId?asOf= (time travel)', () => {
    it('returns the build as it stood at a global position: the live view of that moment', async () => {
      const asQueued = await http('GET', `${queries}/builds/${builds.a}?asOf=${positions.aQueued}`);
      expect(asQueued.status).toBe(200);
      expect(asQueued.body).toEqual(liveViews.aQueued);
      expect((await http('GET', `${queries}/builds/${builds.a}?asOf=${positions.aCanceled - 1}`)).body).toEqual(liveViews.aQueued);
      expect((await http('GET', `${queries}/builds/${builds.a}?asOf=${positions.aCanceled}`)).body).toEqual(liveViews.aCanceled);
      expect((await http('GET', `${queries}/builds/${builds.a}?asOf=${Number.MAX_SAFE_INTEGER}`)).body).toEqual(liveViews.aCanceled);
    });

    it('returns the build as it stood at a time (occurredAt), in any zone', async () => {
      const { events } = (await http('GET', `${queries}/builds/${builds.a}/history`)).body;
      const [queuedAt, canceledAt] = events.map((e: any) => e.occurredAt);
      expect((await http('GET', `${queries}/builds/${builds.a}?asOf=${queuedAt}`)).body).toEqual(liveViews.aQueued);
      expect((await http('GET', `${queries}/builds/${builds.a}?asOf=${canceledAt}`)).body).toEqual(liveViews.aCanceled);
      const shifted = new Date(Date.parse(canceledAt) + 3600_000).toISOString().replace(/\.(\d{3})Z$/, '.$1+01:00');
      expect((await http('GET', `${queries}/builds/${builds.a}?asOf=${encodeURIComponent(shifted)}`)).body).toEqual(liveViews.aCanceled);
      const before = new Date(Date.parse(queuedAt) - 1).toISOString();
      const missing = await http('GET', `${queries}/builds/${builds.a}?asOf=${before}`);
      expectProblem(missing, 404, null);
      expect(missing.body.detail).toBe(`Build ${builds.a} did not exist as of ${before}`);
    });

    it.each([
      ['a position of 0', 'asOf=0', 400, 'asOf'],
      ['a word', 'asOf=yesterday', 400, 'asOf'],
      ['a date without a time', 'asOf=2026-11-16', 400, 'asOf'],
      ['a time without a zone', 'asOf=2026-11-16T09:00:00', 400, 'asOf'],
      ['an unencoded + (it reads as a space)', 'asOf=2026-11-16T09:00:00+01:00', 400, 'asOf'],
      ['asOf with minPosition', 'asOf=1&minPosition=1', 400, 'asOf'],
      ['asOf twice', 'asOf=1&asOf=2', 400, 'asOf'],
    ])('refuses %s', async (_, query, status, field) => {
      const refused = await http('GET', `${queries}/builds/${builds.a}?${query}`);
      expectProblem(refused, status, field);
      expect(refused.body.errors[0].message).not.toMatch(/unknown field/);
    });

    it('answers 404 for a build that never existed', async () => {
      expectProblem(await http('GET', `${queries}/builds/${UNKNOWN_ID}?asOf=1`), 404, null);
    });
  });

  describe('GET /audit/events', () => {
    const audit = (query = '') => http('GET', `${queries}/audit/events${query}`);

    it('streams the whole log as NDJSON in log order, with the head it ends at', async () => {
      const response = await audit();
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
      const head = Number(response.headers.get('x-head-position'));
      const lines = ndjson(response.text);
      expect(lines.map((line) => line.globalPosition)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      lines.forEach((line) => expect(Object.keys(line)).toEqual(LINE_FIELDS));
      const a = lines.filter((line) => line.streamName === `build-${builds.a}`);
      expect(a.map((line) => [line.streamRevision, line.type, line.globalPosition])).toEqual([
        [0, 'BuildQueued', positions.aQueued],
        [1, 'BuildCanceled', positions.aCanceled],
      ]);
      expect(a[0].metadata).toMatchObject({ actor: 'e2e-builder', correlationId: 'audit-drill-1' });
    });

    it('filters by org, positions and times', async () => {
      const mine = ndjson((await audit(`?org=${org}`)).text);
      expect(mine.map((line) => line.globalPosition)).toEqual([positions.aQueued, positions.aCanceled, positions.b]);
      expect(ndjson((await audit(`?org=${other}`)).text).map((line) => line.data.buildId)).toEqual([builds.c]);
      const window = ndjson((await audit(`?from=${positions.c}&to=${positions.aCanceled}`)).text);
      expect(window.map((line) => line.globalPosition)).toEqual([positions.c, positions.aCanceled]);
      const canceledAt = mine[1].metadata.occurredAt;
      const byTime = ndjson((await audit(`?org=${org}&from=${canceledAt}`)).text);
      expect(byTime.map((line) => line.type)).toEqual(['BuildCanceled', 'BuildQueued']);
      expect(ndjson((await audit(`?org=${org}&to=${encodeURIComponent(canceledAt)}&from=${positions.aCanceled}`)).text)).toHaveLength(1);
    });

    it('resumes after the last position received, a page of limit lines at a time', async () => {
      const pages: any[][] = [];
      for (let after = 0; ; ) {
        const page = ndjson((await audit(`?org=${org}&limit=2&after=${after}`)).text);
        if (page.length === 0) break;
        pages.push(page);
        after = page[page.length - 1].globalPosition;
      }
      expect(pages.map((page) => page.length)).toEqual([2, 1]);
      expect(pages.flat()).toEqual(ndjson((await audit(`?org=${org}`)).text));
    });

    it.each([
      ['a from that is no point', '?from=soon', 'from'],
      ['a to before from', '?from=5&to=4', 'to'],
      ['an org that is not a slug', '?org=Big%20Corp', 'org'],
      ['a negative cursor', '?after=-1', 'after'],
      ['a limit of 0', '?limit=0', 'limit'],
      ['a limit over the maximum', '?limit=1000001', 'limit'],
      ['an unknown parameter', '?stream=build-1', 'stream'],
    ])('refuses %s with a problem naming the parameter', async (_, query, field) => {
      expectProblem(await audit(query), 400, field);
    });
  });

  describe('export and import of the running installation', () => {
    const work = mkdtempSync(join(tmpdir(), 'audit-e2e-'));
    let moved: RunningApp | undefined;
    afterAll(async () => {
      await stopApp(moved);
      rmSync(work, { recursive: true, force: true });
    });

    it('exports the lines of /audit/events, and a projector on the imported copy serves the same builds', async () => {
      const file = join(work, 'log.ndjson');
      const exported = await projectorCli(apps.dataDir, 'export', '--out', file);
      expect(exported.code).toBe(0);
      const last = exported.stdout.match(/last position (\d+)/)![1];
      const streamed = await http('GET', `${queries}/audit/events?to=${last}`);
      expect(readFileSync(file, 'utf8')).toBe(streamed.text);

      const copy = join(work, 'copy');
      const imported = await projectorCli(copy, 'import', '--in', file);
      expect(imported).toMatchObject({ code: 0, stderr: '' });
      expect((await projectorCli(copy, 'import', '--in', file)).code).toBe(1);

      moved = await startApp('projector', { DATA_DIR: copy });
      for (const buildId of [builds.a, builds.b, builds.c]) {
        const original = await http('GET', `${queries}/builds/${buildId}?minPosition=${positions.b}`);
        const copied = await http('GET', `${moved.url}/builds/${buildId}?minPosition=${positions.b}`);
        expect(copied.body).toEqual(original.body);
      }
      // The copy numbers its own positions: SQLite's are dense, so a whole log keeps them. Only recordedAt is the copy's.
      // (After the imported history, the copy holds its own test credentials, written when its projector started.)
      const withoutRecordedAt = (text: string) => ndjson(text).map(({ recordedAt, ...line }) => line);
      expect(withoutRecordedAt((await http('GET', `${moved.url}/audit/events?to=${last}`)).text)).toEqual(withoutRecordedAt(streamed.text));
    });
  });
});
