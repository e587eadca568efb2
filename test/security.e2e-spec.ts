import { connect } from 'node:net';
import { AppsUnderTest, http, HttpResult } from './support/apps';
import { bearer } from './support/credentials';

/**
 * The security table of issue 7: every way in that must be refused, each with its status, and
 * nothing written to the log by any of them. Principals: a builder and a viewer of `acme`, a builder
 * of `globex` (whose build is the "other org's build"), the test auditor and SRE.
 */

const build = (org: string) => ({ org, repo: 'secure', source: { git: { url: 'https://git.example.com/secure.git', ref: 'main' } } });

describe('access control: the security table', () => {
  const apps = new AppsUnderTest();
  let commands: string;
  let queries: string;
  const tokens: Record<string, string> = {};
  const builds: Record<string, { buildId: string; position: number }> = {};
  let revokedToken = '';

  const head = async (): Promise<number> => (await http('GET', `${commands}/health`)).body.eventStore.headPosition;

  /** Creates a principal through the admin API and returns a fresh token of it. */
  const principal = async (id: string, role: string, orgs: string[]): Promise<string> => {
    const created = await http('POST', `${commands}/principals`, { id, role, orgs }, apps.as('admin'));
    expect(created.status).toBe(201);
    const issued = await http('POST', `${commands}/principals/${id}/tokens`, { label: 'security table' }, apps.as('admin'));
    expect(issued.status).toBe(201);
    return issued.body.token;
  };

  beforeAll(async () => {
    await apps.start({ EXECUTOR_ENABLED: 'false' });
    commands = apps.orchestrator.url;
    queries = apps.projector.url;
    tokens.acmeBuilder = await principal('acme-builder', 'builder', ['acme']);
    tokens.acmeViewer = await principal('acme-viewer', 'viewer', ['acme']);
    tokens.globexBuilder = await principal('globex-builder', 'builder', ['globex']);
    revokedToken = await principal('leaver', 'viewer', ['acme']);
    const [, tokenId] = revokedToken.split('.').slice(1, 3);
    const revoked = await http('POST', `${commands}/principals/leaver/tokens/${tokenId}/revoke`, { reason: 'left the company' }, apps.as('admin'));
    expect(revoked.status).toBe(200);
    for (const [name, org, token] of [['acme', 'acme', tokens.acmeBuilder], ['globex', 'globex', tokens.globexBuilder]] as const) {
      const queued = await http('POST', `${commands}/builds`, build(org), bearer(token));
      expect(queued.status).toBe(202);
      builds[name] = queued.body;
    }
    // Both builds are in the read models before the table reads them.
    const last = Math.max(builds.acme.position, builds.globex.position);
    expect((await http('GET', `${queries}/builds/${builds.globex.buildId}?minPosition=${last}`)).status).toBe(200);
  }, 60_000);
  afterAll(() => apps.stop());

  type Row = [what: string, send: () => Promise<HttpResult>, status: number, code: string | null];
  const as = (name: string) => bearer(tokens[name]);
  const ROWS: Row[] = [
    ['no token, command', () => http('POST', `${commands}/builds`, build('acme'), { authorization: '' }), 401, 'missing-token'],
    ['no token, query', () => http('GET', `${queries}/builds`, undefined, { authorization: '' }), 401, 'missing-token'],
    ['another scheme (Basic)', () => http('GET', `${queries}/builds`, undefined, { authorization: 'Basic YWRtaW46YWRtaW4=' }), 401, 'malformed-token'],
    ['malformed token', () => http('GET', `${queries}/builds`, undefined, { authorization: 'Bearer not-a-token' }), 401, 'malformed-token'],
    ['a token with a wrong secret', () => http('GET', `${queries}/builds`, undefined, { authorization: `Bearer ${tokens.acmeViewer.slice(0, -4)}AAAA` }), 401, 'invalid-token'],
    ['revoked token, query', () => http('GET', `${queries}/builds`, undefined, bearer(revokedToken)), 401, 'invalid-token'],
    ['revoked token, command', () => http('POST', `${commands}/builds`, build('acme'), bearer(revokedToken)), 401, 'invalid-token'],
    ["another org's build by id", () => http('GET', `${queries}/builds/${builds.globex.buildId}`, undefined, as('acmeViewer')), 404, 'build-not-found'],
    ["another org's build history", () => http('GET', `${queries}/builds/${builds.globex.buildId}/history`, undefined, as('acmeViewer')), 404, 'build-not-found'],
    ["another org's build as of a time", () => http('GET', `${queries}/builds/${builds.globex.buildId}?asOf=${builds.globex.position}`, undefined, as('acmeViewer')), 404, 'build-not-found'],
    ["another org's build logs", () => http('GET', `${commands}/builds/${builds.globex.buildId}/logs`, undefined, as('acmeBuilder')), 404, 'build-not-found'],
    ["cancelling another org's build", () => http('POST', `${commands}/builds/${builds.globex.buildId}/cancel`, {}, as('acmeBuilder')), 404, 'build-not-found'],
    ["retrying another org's build", () => http('POST', `${commands}/builds/${builds.globex.buildId}/retry`, {}, as('acmeBuilder')), 404, 'build-not-found'],
    ['queueing for another org', () => http('POST', `${commands}/builds`, build('globex'), as('acmeBuilder')), 403, 'forbidden-org'],
    ["another org's builds by list filter", () => http('GET', `${queries}/builds?org=globex`, undefined, as('acmeViewer')), 403, 'forbidden-org'],
    ["another org's builds by live stream filter", () => http('GET', `${queries}/stream/builds?org=globex`, undefined, as('acmeViewer')), 403, 'forbidden-org'],
    ["another org's events by export filter", () => http('GET', `${queries}/audit/events?org=globex`, undefined, as('acmeViewer')), 403, 'forbidden-org'],
    ['a viewer cancelling', () => http('POST', `${commands}/builds/${builds.acme.buildId}/cancel`, {}, as('acmeViewer')), 403, 'forbidden'],
    ['a viewer queueing', () => http('POST', `${commands}/builds`, build('acme'), as('acmeViewer')), 403, 'forbidden'],
    ['a builder draining', () => http('POST', `${commands}/backends/local/drain`, {}, as('acmeBuilder')), 403, 'forbidden'],
    ['a builder reading incidents', () => http('GET', `${queries}/incidents`, undefined, as('acmeBuilder')), 403, 'forbidden'],
    ['a builder creating principals', () => http('POST', `${commands}/principals`, { id: 'sneaky', role: 'admin' }, as('acmeBuilder')), 403, 'forbidden'],
    ['an auditor queueing', () => http('POST', `${commands}/builds`, build('acme'), apps.as('auditor')), 403, 'forbidden'],
    ['an auditor cancelling', () => http('POST', `${commands}/builds/${builds.acme.buildId}/cancel`, {}, apps.as('auditor')), 403, 'forbidden'],
    ['an auditor draining', () => http('POST', `${commands}/backends/local/drain`, {}, apps.as('auditor')), 403, 'forbidden'],
    ['an auditor issuing tokens', () => http('POST', `${commands}/principals/e2e-auditor/tokens`, {}, apps.as('auditor')), 403, 'forbidden'],
    ['an SRE queueing', () => http('POST', `${commands}/builds`, build('acme'), apps.as('sre')), 403, 'forbidden'],
    ['an admin queueing', () => http('POST', `${commands}/builds`, build('acme'), apps.as('admin')), 403, 'forbidden'],
  ];

  it.each(ROWS)('%s → %d, nothing written', async (_, send, status, code) => {
    const before = await head();
    const response = await send();
    expect({ status: response.status, type: response.body?.type }).toEqual({ status, type: code === null ? undefined : `urn:build-orchestrator:problem:${code}` });
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await head()).toBe(before);
  });

  /** Sends raw bytes: headers a client library would refuse to send. */
  const raw = (port: number, head: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(head));
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0), text: received }));
      socket.on('error', reject);
    });

  it.each([
    ['an oversized header (32 KiB)', (host: string) => `GET /builds HTTP/1.1\r\nHost: ${host}\r\nX-Padding: ${'a'.repeat(32 * 1024)}\r\nConnection: close\r\n\r\n`, 431],
    ['an oversized Authorization header', (host: string) => `GET /builds HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${'b'.repeat(32 * 1024)}\r\nConnection: close\r\n\r\n`, 431],
    ['a header line without a colon', (host: string) => `GET /builds HTTP/1.1\r\nHost: ${host}\r\nAuthorization Bearer x\r\nConnection: close\r\n\r\n`, 400],
    ['a control character in the Authorization header', (host: string) => `GET /builds HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer bo.x\u0001y\r\nConnection: close\r\n\r\n`, 400],
  ])('%s is refused (%d) before any handler, nothing written', async (_, request, status) => {
    const before = await head();
    const url = new URL(queries);
    const response = await raw(Number(url.port), request(url.host));
    expect(response.status).toBe(status);
    expect(await head()).toBe(before);
  });

  it('an over-long but well-formed bearer token is a 401, not an error', async () => {
    const response = await http('GET', `${queries}/builds`, undefined, { authorization: `Bearer bo.acme-viewer.0123456789abcdef.${'A'.repeat(4000)}` });
    expect(response.status).toBe(401);
  });

  describe('what a scoped principal sees', () => {
    it('lists only its orgs, without a filter too', async () => {
      const listed = await http('GET', `${queries}/builds?limit=200`, undefined, as('acmeViewer'));
      expect(listed.status).toBe(200);
      const orgs = new Set(listed.body.items.map((item: { org: string }) => item.org));
      expect([...orgs]).toEqual(['acme']);
    });

    it('exports only its orgs\' build events', async () => {
      const exported = await http('GET', `${queries}/audit/events`, undefined, as('acmeViewer'));
      expect(exported.status).toBe(200);
      const lines = exported.text.trim().split('\n').map((line) => JSON.parse(line)).filter((line) => line.type);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect({ stream: line.streamName, org: line.data?.org }).toEqual({ stream: expect.stringMatching(/^build-/), org: 'acme' });
    });

    it('follows the live stream of its orgs only', async () => {
      const controller = new AbortController();
      const response = await fetch(`${queries}/stream/builds`, { signal: controller.signal, headers: as('acmeViewer') });
      expect(response.status).toBe(200);
      const globex = await http('POST', `${commands}/builds`, build('globex'), as('globexBuilder'));
      const acme = await http('POST', `${commands}/builds`, build('acme'), as('acmeBuilder'));
      const reader = response.body!.getReader();
      let text = '';
      while (!text.includes(acme.body.buildId)) text += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      expect(text).not.toContain(globex.body.buildId);
      expect(text).not.toContain('"org":"globex"');
    });

    it('reads its own builds and their history, with the acting principal as actor', async () => {
      const history = await http('GET', `${queries}/builds/${builds.acme.buildId}/history`, undefined, as('acmeViewer'));
      expect(history.status).toBe(200);
      expect(history.body.events).toEqual([expect.objectContaining({ type: 'BuildQueued', actor: 'acme-builder' })]);
    });
  });

  it('limits each principal\'s request rate: 429 with Retry-After, other principals unaffected', async () => {
    const limited = new AppsUnderTest();
    await limited.start({ EXECUTOR_ENABLED: 'false', RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 6; i += 1) {
        const response = await http('GET', `${limited.projector.url}/builds`, undefined, limited.as('auditor'));
        statuses.push(response.status);
        if (response.status === 429) retryAfter = response.headers.get('retry-after');
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect((await http('GET', `${limited.projector.url}/builds`, undefined, limited.as('sre'))).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});

