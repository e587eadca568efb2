import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { AccessCommand, accessDecider, PRINCIPAL_STREAM_PREFIX, principalStream } from '@lib/domain';
import { RecordedEvent, SqliteEventStore } from '@lib/event-store';
import { generateApiToken, handleCommand } from '@lib/shared';
import { AppsUnderTest, http, HttpResult, RunningApp, startApp, stopApp } from './support/apps';
import { createAdminToken, issueToken } from './support/auth';

const ADMIN = 'admin';
const UNKNOWN_BUILD = '01a21b76-39e8-7c1d-993f-50fcf8127bdd';
const problem = (code: string) => `urn:build-orchestrator:problem:${code}`;
const secretOf = (token: string): string => token.split('.')[3];

/** Opens the apps' SQLite store beside them, to read what they recorded (and to plant a token that expired long ago). */
const withStore = async <T>(dataDir: string, use: (store: SqliteEventStore) => Promise<T>): Promise<T> => {
  const store = new SqliteEventStore({ path: join(dataDir, 'events.sqlite') });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
};

describe('access control through both started apps', () => {
  const apps = new AppsUnderTest();
  let admin: string;
  let commands: string;
  let queries: string;
  /** Every response body this test received, to look for tokens where they must not be. */
  const responses: string[] = [];
  /** Tokens issued through the API, and how many responses may show each (its issuing one). */
  const issued: string[] = [];

  /** A request with exactly this token (null: none), recorded. */
  const call = async (method: string, url: string, token: string | null, body?: unknown): Promise<HttpResult> => {
    const result = await http(method, url, body, { authorization: token === null ? '' : `Bearer ${token}` });
    responses.push(result.text);
    return result;
  };
  const head = async (): Promise<number> => (await call('GET', `${commands}/health`, null)).body.eventStore.headPosition;
  const tokenFor = async (id: string, role: string, orgs: string[] = [], extra: object = {}): Promise<{ token: string; response: HttpResult }> => {
    const created = await call('POST', `${commands}/principals`, admin, { id, role, orgs });
    if (created.status !== 201) throw new Error(`POST /principals ${id}: ${created.status} ${created.text}`);
    const response = await call('POST', `${commands}/principals/${id}/tokens`, admin, { label: `${id} token`, ...extra });
    if (response.status !== 201) throw new Error(`POST /principals/${id}/tokens: ${response.status} ${response.text}`);
    issued.push(response.body.token);
    return { token: response.body.token, response };
  };

  beforeAll(async () => {
    // The first admin token comes from the machine, before any app runs: no endpoint gives one out.
    admin = await createAdminToken(apps.dataDir);
    await apps.start({ EXECUTOR_ENABLED: 'false' });
    commands = apps.orchestrator.url;
    queries = apps.projector.url;
  });
  afterAll(() => apps.stop());

  describe('bootstrap', () => {
    it('the CLI created the admin principal and its token, as the user at the machine', async () => {
      expect(admin).toMatch(/^bo\.admin\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
      const principal = await call('GET', `${commands}/principals/${ADMIN}`, admin);
      expect(principal.status).toBe(200);
      expect(principal.body).toMatchObject({ id: ADMIN, role: 'admin', orgs: [], status: 'enabled', createdBy: `cli:${userInfo().username}` });
      expect(principal.body.tokens).toEqual([expect.objectContaining({ label: 'create-admin-token', issuedBy: `cli:${userInfo().username}`, revoked: false, expiresAt: null })]);
    });

    it('gives another token to the existing admin while the apps run, usable at once', async () => {
      const second = await createAdminToken(apps.dataDir, { label: 'second' });
      expect(second).not.toBe(admin);
      expect((await call('GET', `${commands}/principals`, second)).status).toBe(200);
      expect((await call('GET', `${commands}/principals/${ADMIN}`, admin)).body.tokens.map((t: { label: string }) => t.label)).toEqual(['create-admin-token', 'second']);
    });

    it('keeps health public on both apps', async () => {
      expect((await call('GET', `${commands}/health`, null)).status).toBe(200);
      expect((await call('GET', `${queries}/health`, null)).status).toBe(200);
    });
  });

  describe('authentication: 401 on both apps, with a Bearer challenge, saying nothing of the token', () => {
    const routes = () => [`${commands}/backends`, `${queries}/builds`];

    it('refuses a request without a token', async () => {
      for (const url of routes()) {
        const response = await call('GET', url, null);
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer realm="build-orchestrator"');
        expect(response.body).toMatchObject({ type: problem('missing-token'), status: 401 });
      }
    });

    it.each([
      ['another scheme', 'Basic YWRtaW46cGFzc3dvcmQ='],
      ['a token of another kind', 'Bearer ghp_0123456789abcdefghijklmnopqrstuvwxyz'],
      ['a token with a part missing', 'Bearer bo.admin.0123456789abcdef'],
    ])('refuses %s as malformed', async (_, authorization) => {
      for (const url of routes()) {
        const response = await http('GET', url, undefined, { authorization });
        responses.push(response.text);
        expect(response.status).toBe(401);
        expect(response.body.type).toBe(problem('malformed-token'));
        expect(response.text).not.toContain(authorization.split(' ')[1]);
      }
    });

    it('refuses an unknown principal, an unknown token and a wrong secret alike, as invalid', async () => {
      const wrongSecret = `${admin.slice(0, -3)}${admin.endsWith('AAA') ? 'BBB' : 'AAA'}`;
      for (const token of [generateApiToken('nobody').token, generateApiToken(ADMIN).token, wrongSecret]) {
        for (const url of routes()) {
          const response = await call('GET', url, token);
          expect(response.status).toBe(401);
          expect(response.headers.get('www-authenticate')).toBe('Bearer realm="build-orchestrator", error="invalid_token"');
          expect(response.body).toMatchObject({ type: problem('invalid-token'), detail: 'The API token is not valid' });
          expect(response.text).not.toContain(secretOf(token));
        }
      }
    });

    it('refuses a token that expired', async () => {
      await call('POST', `${commands}/principals`, admin, { id: 'expired-ci', role: 'viewer', orgs: ['acme'] });
      // Issued two days ago for one day: written to the log as the admin API would have, back then.
      const expired = generateApiToken('expired-ci');
      const twoDaysAgo = Date.now() - 2 * 24 * 3600 * 1000;
      const command: AccessCommand = {
        type: 'IssueApiToken',
        data: { principalId: 'expired-ci', tokenId: expired.tokenId, hash: expired.hash, label: 'old', expiresAt: new Date(twoDaysAgo + 24 * 3600 * 1000).toISOString() },
        metadata: { eventId: randomUUID(), occurredAt: new Date(twoDaysAgo).toISOString(), actor: ADMIN, correlationId: randomUUID(), causationId: randomUUID() },
      };
      await withStore(apps.dataDir, (store) => handleCommand(store, accessDecider, principalStream('expired-ci'), command));
      for (const url of routes()) expect((await call('GET', url, expired.token)).body.type).toBe(problem('invalid-token'));
    });
  });

  describe('the admin API', () => {
    let builder: string;

    beforeAll(async () => {
      ({ token: builder } = await tokenFor('ci-acme', 'builder', ['acme']));
    });

    it('creates principals (201) with their role and orgs, recording the acting admin', async () => {
      const created = await call('POST', `${commands}/principals`, admin, { id: 'support', role: 'viewer', orgs: ['acme', 'globex'], description: 'support desk' });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: 'support', role: 'viewer', orgs: ['acme', 'globex'], description: 'support desk', status: 'enabled', createdAt: expect.any(String), createdBy: ADMIN,
        disabledAt: null, disabledBy: null, disabledReason: null, tokens: [],
      });
    });

    it('shows a token once, in the response that issues it, not to be cached', async () => {
      const { token, response } = await tokenFor('release-bot', 'builder', ['*'], { expiresInDays: 30 });
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.body).toEqual({ token, tokenId: token.split('.')[2], principalId: 'release-bot', expiresAt: expect.any(String) });
      expect(Date.parse(response.body.expiresAt) - Date.now()).toBeGreaterThan(29 * 24 * 3600 * 1000);
      const principal = await call('GET', `${commands}/principals/release-bot`, admin);
      expect(principal.body.tokens).toEqual([{
        tokenId: response.body.tokenId, label: 'release-bot token', issuedAt: expect.any(String), issuedBy: ADMIN, expiresAt: response.body.expiresAt,
        revoked: false, revokedAt: null, revokedBy: null, revokeReason: null,
      }]);
    });

    it('gives principals with principals:read the list, with token ids but no hash', async () => {
      const { token: auditor } = await tokenFor('auditor-1', 'auditor');
      const list = await call('GET', `${commands}/principals`, auditor);
      expect(list.status).toBe(200);
      expect(list.body.items.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining([ADMIN, 'ci-acme', 'auditor-1']));
      const hashes = await withStore(apps.dataDir, async (store) =>
        (await store.readAll({ filter: { eventTypes: ['ApiTokenIssued'] } })).map((event) => String(event.data.hash)));
      expect(hashes.length).toBeGreaterThan(3);
      for (const hash of hashes) expect(list.text).not.toContain(hash);
      expect(list.text).not.toMatch(/"hash"/);
    });

    it('refuses what breaks the rules of roles: 400 naming the field, 409 on an existing id, 404 on an unknown one', async () => {
      const before = await head();
      expect((await call('POST', `${commands}/principals`, admin, { id: 'no-orgs', role: 'builder' })).body).toMatchObject({
        status: 400, type: problem('invalid-access-command'), errors: [{ field: 'orgs' }],
      });
      expect((await call('POST', `${commands}/principals`, admin, { id: 'sre-1', role: 'sre', orgs: ['acme'] })).status).toBe(400);
      expect((await call('POST', `${commands}/principals`, admin, { id: 'Bad.Id', role: 'sre' })).body).toMatchObject({ status: 400, errors: [{ field: 'id' }] });
      expect((await call('POST', `${commands}/principals`, admin, { id: 'ci-acme', role: 'builder', orgs: ['acme'] })).body).toMatchObject({ status: 409, type: problem('principal-already-exists') });
      expect((await call('GET', `${commands}/principals/nobody`, admin)).body).toMatchObject({ status: 404, type: problem('principal-not-found') });
      expect((await call('POST', `${commands}/principals/nobody/tokens`, admin, {})).status).toBe(404);
      expect((await call('POST', `${commands}/principals/ci-acme/tokens/0123456789abcdef/revoke`, admin, {})).body).toMatchObject({ status: 404, type: problem('api-token-not-found') });
      expect((await call('POST', `${commands}/principals/${ADMIN}/disable`, admin, {})).body).toMatchObject({ status: 409, type: problem('illegal-transition') });
      expect(await head()).toBe(before);
    });

    it('changes a role, which holds from the next request on', async () => {
      const { token } = await tokenFor('changing', 'viewer', ['acme']);
      expect((await call('POST', `${commands}/builds/${UNKNOWN_BUILD}/cancel`, token, {})).status).toBe(403);
      const changed = await call('POST', `${commands}/principals/changing/role`, admin, { role: 'builder', orgs: ['acme'] });
      expect(changed.body).toMatchObject({ role: 'builder', orgs: ['acme'] });
      expect((await call('POST', `${commands}/builds/${UNKNOWN_BUILD}/cancel`, token, {})).status).toBe(404);
    });

    it('revokes a token: refused at once by both apps; revoking it again changes nothing', async () => {
      const { token, response } = await tokenFor('to-revoke', 'viewer', ['acme']);
      expect((await call('GET', `${commands}/backends`, token)).status).toBe(200);
      expect((await call('GET', `${queries}/builds`, token)).status).toBe(200);
      const revoked = await call('POST', `${commands}/principals/to-revoke/tokens/${response.body.tokenId}/revoke`, admin, { reason: 'leaked' });
      expect(revoked.status).toBe(200);
      expect(revoked.body.tokens[0]).toMatchObject({ revoked: true, revokedBy: ADMIN, revokeReason: 'leaked', revokedAt: expect.any(String) });
      expect((await call('GET', `${commands}/backends`, token)).body.type).toBe(problem('invalid-token'));
      expect((await call('GET', `${queries}/builds`, token)).body.type).toBe(problem('invalid-token'));
      const before = await head();
      expect((await call('POST', `${commands}/principals/to-revoke/tokens/${response.body.tokenId}/revoke`, admin, {})).status).toBe(200);
      expect(await head()).toBe(before);
    });

    it('disables a principal: its tokens stop at once on both apps, it gets no new one, and enabling brings them back', async () => {
      const { token } = await tokenFor('on-leave', 'viewer', ['acme']);
      expect((await call('POST', `${commands}/principals/on-leave/disable`, admin, { reason: 'on leave' })).body).toMatchObject({ status: 'disabled', disabledBy: ADMIN, disabledReason: 'on leave' });
      expect((await call('GET', `${commands}/backends`, token)).status).toBe(401);
      expect((await call('GET', `${queries}/builds`, token)).status).toBe(401);
      expect((await call('POST', `${commands}/principals/on-leave/tokens`, admin, {})).body).toMatchObject({ status: 409, type: problem('principal-disabled') });
      expect((await call('POST', `${commands}/principals/on-leave/enable`, admin, {})).body).toMatchObject({ status: 'enabled' });
      expect((await call('GET', `${commands}/backends`, token)).status).toBe(200);
      expect((await call('GET', `${queries}/builds`, token)).status).toBe(200);
    });

    it('lets a builder queue in its org, recording it as the actor', async () => {
      const queued = await call('POST', `${commands}/builds`, builder, { org: 'acme', repo: 'hello', source: { git: { url: 'https://git.example.com/acme/hello.git' } } });
      expect(queued.status).toBe(202);
      const [event] = await withStore(apps.dataDir, (store) => store.readStream(`build-${queued.body.buildId}`));
      expect(event.metadata.actor).toBe('ci-acme');
    });
  });

  describe('authorization: 403 naming the permission, and nothing written', () => {
    const tokens: Record<string, string> = {};

    beforeAll(async () => {
      tokens.viewer = (await tokenFor('viewer-acme', 'viewer', ['acme'])).token;
      tokens.builder = (await tokenFor('builder-acme', 'builder', ['acme'])).token;
      tokens.auditor = (await tokenFor('auditor-2', 'auditor')).token;
      tokens.sre = (await tokenFor('sre-2', 'sre')).token;
    });

    it.each([
      ['a viewer cancelling a build', 'viewer', 'POST', () => `${commands}/builds/${UNKNOWN_BUILD}/cancel`, 'builds:write'],
      ['a builder draining a backend', 'builder', 'POST', () => `${commands}/backends/local/drain`, 'routes:write'],
      ['an auditor queueing a build', 'auditor', 'POST', () => `${commands}/builds`, 'builds:write'],
      ['an sre creating a principal', 'sre', 'POST', () => `${commands}/principals`, 'principals:manage'],
      ['a builder issuing itself a token', 'builder', 'POST', () => `${commands}/principals/builder-acme/tokens`, 'principals:manage'],
      ['a viewer listing principals', 'viewer', 'GET', () => `${commands}/principals`, 'principals:read'],
      ['an admin queueing a build', 'admin', 'POST', () => `${commands}/builds`, 'builds:write'],
      ['an admin reading builds', 'admin', 'GET', () => `${queries}/builds`, 'builds:read'],
    ])('refuses %s', async (_, who, method, url, permission) => {
      const before = await head();
      const body = method === 'POST' ? { id: 'x', role: 'viewer', orgs: ['acme'], org: 'acme', repo: 'r', source: { git: { url: 'https://git.example.com/a/b.git' } } } : undefined;
      const response = await call(method, url(), who === 'admin' ? admin : tokens[who], body);
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ type: problem('forbidden'), permissions: [permission], detail: `This request needs the permission ${permission}` });
      expect(await head()).toBe(before);
    });
  });

  describe('secrets', () => {
    it('records the acting admin on every access event it caused, and no token or secret anywhere in the log', async () => {
      const events = await withStore(apps.dataDir, (store) => store.readAll({ filter: { streamPrefixes: [PRINCIPAL_STREAM_PREFIX] } }));
      const ours = (event: RecordedEvent) => !String(event.data.principalId).startsWith('e2e-');
      const actors = new Set(events.filter(ours).map((event) => `${String(event.data.principalId) === ADMIN ? 'admin-stream' : 'other'}:${event.metadata.actor}`));
      expect([...actors].sort()).toEqual([`admin-stream:cli:${userInfo().username}`, `other:${ADMIN}`]);
      const log = JSON.stringify(await withStore(apps.dataDir, (store) => store.readAll()));
      for (const token of [admin, ...issued]) expect(log).not.toContain(secretOf(token));
    });

    it('shows each token in its issuing response only, and in no log line of either app', () => {
      expect(issued.length).toBeGreaterThan(5);
      for (const token of issued) expect(responses.filter((text) => text.includes(secretOf(token)))).toHaveLength(1);
      expect(responses.filter((text) => text.includes(secretOf(admin)))).toHaveLength(0);
      const output = [...apps.orchestrator.output, ...apps.projector.output].join('\n');
      for (const token of [admin, ...issued]) expect(output).not.toContain(secretOf(token));
      expect(output).not.toMatch(/bo\.[a-z0-9_-]+\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}/);
    });
  });
});

describe('rate limits through the started orchestrator', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-rate-'));
  let orchestrator: RunningApp;
  let admin: string;

  beforeAll(async () => {
    admin = await createAdminToken(dataDir);
    orchestrator = await startApp('orchestrator', {
      DATA_DIR: dataDir, EXECUTOR_ENABLED: 'false', RATE_LIMIT_BURST: '3', RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3',
    });
  });
  afterAll(async () => {
    await stopApp(orchestrator);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 429 with Retry-After once a principal has used its burst, and then other principals are still served', async () => {
    const token = await issueToken(orchestrator.url, admin, { id: 'busy', role: 'viewer', orgs: ['acme'] });
    const get = () => http('GET', `${orchestrator.url}/backends`, undefined, { authorization: `Bearer ${token}` });
    expect([(await get()).status, (await get()).status, (await get()).status]).toEqual([200, 200, 200]);
    // At one token a second, the bucket is empty again after at most one refill: a 429 comes within a few requests.
    let limited: HttpResult | undefined;
    for (let i = 0; i < 10 && !limited; i++) {
      const response = await get();
      if (response.status === 429) limited = response;
    }
    expect(limited?.body).toMatchObject({ type: 'urn:build-orchestrator:problem:rate-limited', status: 429 });
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await http('GET', `${orchestrator.url}/principals/busy`, undefined, { authorization: `Bearer ${admin}` })).status).toBe(200);
  });

  it('answers 429 to an address that failed to authenticate too often, even with a good token', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await http('GET', `${orchestrator.url}/backends`, undefined, { authorization: `Bearer ${generateApiToken('guess').token}` })).status).toBe(401);
    }
    const blocked = await http('GET', `${orchestrator.url}/principals`, undefined, { authorization: `Bearer ${admin}` });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(19);
    expect((await http('GET', `${orchestrator.url}/health`, undefined, { authorization: '' })).status).toBe(200);
  });
});
