import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore } from '@lib/event-store';
import Docker from 'dockerode';
import { AccessKeys } from '../apps/orchestrator/src/registry-auth/access-keys';
import { AppsUnderTest, http, HttpResult } from './support/apps';
import { bearer } from './support/credentials';
import { awaitBuildEvent, TERMINAL_EVENTS } from './support/events';
import { BASE_IMAGE, gitRepository } from './support/git-repo';
import { freePort, startRegistry, TestRegistry } from './support/registry';

/**
 * No secret in any event, log line, read model or error body. The test plants canaries of every
 * kind of secret the system handles (API tokens, a registry access key, a registry token, a
 * password in a source URL, a token sent with a wrong secret), runs a real build that pushes
 * with its own ephemeral key and token, reads every view, then scans every file of the data
 * directory, everything the apps printed, and every response for the canaries and for anything
 * shaped like such a secret. The only places a secret may appear: the response that issued it.
 */

const docker = new Docker({ socketPath: (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace('unix://', '') });

/** Shapes of the secrets themselves (not their ids, not their hashes). */
const SECRET_SHAPES: [string, RegExp][] = [
  ['API token', /bo\.[a-z0-9][a-z0-9_-]{0,62}\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}/],
  ['registry access key', /bok_[A-Za-z0-9_-]{43}/],
  ['registry token (JWT)', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/],
];

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return [];
    return stat.isDirectory() ? filesUnder(path) : stat.isFile() ? [path] : [];
  });

describe('no secret in any event, log line, read model or error body', () => {
  const apps = new AppsUnderTest();
  let registry: TestRegistry;
  let store: SqliteEventStore;
  const canaries = new Map<string, string>();
  /** Every response the test received, except those allowed to carry one secret: the responses that issued it. */
  const responses: { what: string; text: string }[] = [];
  const record = (what: string, response: HttpResult): HttpResult => {
    responses.push({ what, text: `${[...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}\n\n${response.text}` });
    return response;
  };

  beforeAll(async () => {
    try {
      await docker.ping();
      await docker.getImage(BASE_IMAGE).inspect();
    } catch (error) {
      throw new Error(`These tests need a Docker engine and the ${BASE_IMAGE} image: run scripts/services.sh up (${(error as Error).message})`);
    }
    const port = await freePort();
    registry = await startRegistry(port);
    await apps.start({
      PORT: String(port), REGISTRY_ADDR: registry.addr, REGISTRY_URL: registry.url, REGISTRY_SERVICE: registry.service,
      REGISTRY_TOKEN_KEY: registry.keyPath, REGISTRY_TOKEN_CERT: registry.certPath, BUILD_TIMEOUT_SECONDS: '120', LOG_LEVEL: 'debug',
    });
    store = new SqliteEventStore({ path: join(apps.dataDir, 'events.sqlite'), pollIntervalMs: 5 });
    const commands = apps.orchestrator.url;
    const queries = apps.projector.url;

    // API tokens: the test principals', and one issued through the admin API (its issuing response is the one allowed place).
    for (const [role, token] of Object.entries(apps.credentials)) canaries.set(`API token of ${role}`, token);
    expect((await http('POST', `${commands}/principals`, { id: 'canary', role: 'viewer', orgs: ['acme'] }, apps.as('admin'))).status).toBe(201);
    const issued = await http('POST', `${commands}/principals/canary/tokens`, { label: 'canary' }, apps.as('admin'));
    expect(issued.status).toBe(201);
    canaries.set('API token issued through the API', issued.body.token);
    record('reading with the canary token', await http('GET', `${queries}/builds`, undefined, bearer(issued.body.token)));
    const forged = `${issued.body.token.slice(0, -8)}CANARYAB`;
    canaries.set('a forged token', forged);
    record('a forged token', await http('GET', `${queries}/builds`, undefined, bearer(forged)));

    // A registry access key (as the executor issues them) and the registry token it buys.
    const keys = new AccessKeys(join(apps.dataDir, 'credentials.sqlite'));
    const key = keys.issue({ buildId: 'canary-key', account: 'acme', repository: 'acme/canary' }, new Date(), 300);
    keys.close();
    canaries.set('registry access key', key.password);
    const basic = `Basic ${Buffer.from(`${key.username}:${key.password}`).toString('base64')}`;
    const token = await http('GET', `${commands}/registry/token?service=${encodeURIComponent(registry.service)}&scope=repository:acme/canary:push,pull`, undefined, { authorization: basic });
    expect(token.status).toBe(200);
    canaries.set('registry token', token.body.token);
    const wrongKey = `Basic ${Buffer.from(`${key.username}:bok_CANARY${'x'.repeat(37)}`).toString('base64')}`;
    canaries.set('a wrong registry key', `bok_CANARY${'x'.repeat(37)}`);
    record('a wrong registry key', await http('GET', `${commands}/registry/token?service=${encodeURIComponent(registry.service)}&scope=repository:acme/canary:push`, undefined, { authorization: wrongKey }));

    // A password in a source URL is refused, and the refusal does not repeat it.
    canaries.set('password in a source URL', 'CanaryPassw0rd');
    record('a source URL with a password', await http('POST', `${commands}/builds`, { org: 'acme', repo: 'canary', source: { git: { url: 'https://alice:CanaryPassw0rd@git.example.com/acme/canary.git' } } }));

    // A real build that pushes with its own ephemeral key and registry token.
    const source = gitRepository({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo canary > /canary.txt\n` });
    const queued = record('queueing a build', await http('POST', `${commands}/builds`, { org: 'acme', repo: 'canary', source: { git: { url: source, ref: 'main' } } }));
    expect(queued.status).toBe(202);
    const end = await awaitBuildEvent(store, queued.body.buildId, TERMINAL_EVENTS, 120_000);
    expect(end.type).toBe('BuildPushed');

    // Every view, as the auditor (who reads everything) and as the SRE.
    const head = end.globalPosition;
    for (const path of [
      `/builds/${queued.body.buildId}?minPosition=${head}`, `/builds/${queued.body.buildId}/history`, `/builds/${queued.body.buildId}/events`, '/builds',
      '/queue', '/backends', '/registry-endpoints', '/stats', '/projections', '/audit/events', '/incidents',
    ]) {
      record(`GET ${path}`, await http('GET', `${queries}${path}`));
    }
    record('GET /principals', await http('GET', `${commands}/principals`, undefined, apps.as('admin')));
    record('GET /principals/canary', await http('GET', `${commands}/principals/canary`, undefined, apps.as('admin')));
    record('the build log', await http('GET', `${commands}/builds/${queued.body.buildId}/logs`));
  }, 180_000);

  afterAll(async () => {
    await store?.close();
    await apps.stop();
    await registry?.stop();
  });

  /** Where a text shows a canary or a secret's shape, if anywhere. */
  const findings = (where: string, text: string): string[] => [
    ...[...canaries].filter(([, canary]) => text.includes(canary)).map(([name]) => `${where}: ${name}`),
    ...SECRET_SHAPES.filter(([, shape]) => shape.test(text)).map(([name, shape]) => `${where}: something shaped like a ${name}: ${shape.exec(text)![0].slice(0, 12)}…`),
  ];

  it('planted every kind of canary', () => {
    expect([...canaries.keys()].length).toBeGreaterThanOrEqual(8);
  });

  it('no file of the data directory holds one (events, read models, credentials, logs, checkouts)', async () => {
    await store.close();
    const files = filesUnder(apps.dataDir);
    expect(files.some((file) => file.endsWith('events.sqlite'))).toBe(true);
    expect(files.some((file) => file.endsWith('read-models.sqlite'))).toBe(true);
    expect(files.flatMap((file) => findings(file.slice(apps.dataDir.length + 1), readFileSync(file).toString('latin1')))).toEqual([]);
    store = new SqliteEventStore({ path: join(apps.dataDir, 'events.sqlite'), pollIntervalMs: 5 });
  });

  it('no line either app printed holds one (at debug level)', () => {
    expect(apps.orchestrator.output.length + apps.projector.output.length).toBeGreaterThan(0);
    expect([
      ...apps.orchestrator.output.flatMap((line, n) => findings(`orchestrator line ${n + 1}`, line)),
      ...apps.projector.output.flatMap((line, n) => findings(`projector line ${n + 1}`, line)),
    ]).toEqual([]);
  });

  it('no response holds one (views, exports, error bodies)', () => {
    expect(responses.length).toBeGreaterThan(15);
    expect(responses.flatMap(({ what, text }) => findings(what, text))).toEqual([]);
  });
});
