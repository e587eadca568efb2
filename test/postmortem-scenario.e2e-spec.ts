import { RouteEvent } from '@lib/domain';
import { RecordedEvent, SqliteEventStore } from '@lib/event-store';
import { join } from 'node:path';
import { RegistryTokenSigner } from '../apps/orchestrator/src/registry-auth/registry-token.signer';
import { AppsUnderTest, http } from './support/apps';
import { ENGINES, requireEngines } from './support/engines';
import { awaitBuildEvent, awaitEvent } from './support/events';
import { FaultProxy } from './support/fault-proxy';
import { BASE_IMAGE, gitRepository } from './support/git-repo';
import { freePort, startRegistry, TestRegistry } from './support/registry';

/**
 * The post mortem's day, on real engines and real registries: pushes through the primary registry
 * route start to time out; builds retry; the circuit opens; builds fall back to the secondary
 * route (a second registry serving the same storage) and succeed; the fault is removed; a probe
 * half-opens the circuit and a trial push through the primary closes it. The log tells the story.
 */
describe('the post mortem scenario: stalled pushes on the primary route are survived by retries, a circuit and fallback', () => {
  const apps = new AppsUnderTest();
  const source = gitRepository({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo "built at $(date +%s%N)" > /built\n` });
  let primary: TestRegistry;
  let secondary: TestRegistry;
  let proxy: FaultProxy;
  let store: SqliteEventStore;
  let commands: string;

  beforeAll(async () => {
    await requireEngines([ENGINES.primary, ENGINES.secondary]);
    const port = await freePort();
    primary = await startRegistry(port);
    secondary = await startRegistry(port, { sharing: primary });
    const [host, registryPort] = primary.addr.split(':');
    proxy = await FaultProxy.start({ host, port: Number(registryPort) });
    await apps.start({
      PORT: String(port),
      BUILD_BACKENDS: `engine1=${ENGINES.primary}?concurrency=2,engine2=${ENGINES.secondary}?concurrency=2`,
      REGISTRY_ENDPOINTS: `primary=${proxy.addr},secondary=${secondary.addr}`,
      REGISTRY_SERVICE: primary.service,
      REGISTRY_TOKEN_KEY: primary.keyPath,
      REGISTRY_TOKEN_CERT: primary.certPath,
      PUSH_TIMEOUT_SECONDS: '3',
      PROBE_TIMEOUT_MS: '1000',
      RETRY_BASE_MS: '200',
      RETRY_MAX_MS: '1000',
      RETRY_LIMITS: 'registry-timeout=4,registry-unavailable=4,infrastructure=2',
      CIRCUIT_MIN_REQUESTS: '2',
      CIRCUIT_FAILURE_RATE_PERCENT: '50',
      CIRCUIT_WINDOW_SECONDS: '120',
      CIRCUIT_OPEN_SECONDS: '2',
      ORG_MAX_RUNNING: '4',
    });
    commands = apps.orchestrator.url;
    store = new SqliteEventStore({ path: join(apps.dataDir, 'events.sqlite'), pollIntervalMs: 5 });
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await apps.stop();
    await proxy?.close();
    await secondary?.stop();
    await primary?.stop();
  });

  const submit = async (org: string, accountType: 'org' | 'user', repo: string): Promise<string> => {
    const response = await http('POST', `${commands}/builds`, { org, repo, accountType, source: { git: { url: source, ref: 'main' } } });
    expect(response.status).toBe(202);
    return response.body.buildId as string;
  };
  const pushed = (buildId: string) => awaitBuildEvent(store, buildId, ['BuildPushed', 'BuildRetriesExhausted', 'BuildCanceled', 'BuildExpired'], 90_000);
  const routeEvent = (type: RouteEvent['type'], after = 0) =>
    awaitEvent(store, `${type} for registry endpoint primary`, (event) => event.type === type && event.data.endpoint === 'primary' && event.globalPosition > after, 60_000);

  it('keeps every build flowing and records the fault, the circuit and every fallback as events', async () => {
    // Morning: the primary route works.
    const healthy = [await submit('acme', 'org', 'web'), await submit('alice', 'user', 'dotfiles')];
    for (const buildId of healthy) expect((await pushed(buildId)).type).toBe('BuildPushed');

    // The fault: pushes through the primary route stall.
    await proxy.setMode({ kind: 'stall' });
    const during = [
      await submit('acme', 'org', 'api'),
      await submit('globex', 'org', 'worker'),
      await submit('bob', 'user', 'blog'),
      await submit('initech', 'org', 'billing'),
    ];
    const opened = await routeEvent('RegistryCircuitOpened');
    for (const buildId of during) expect((await pushed(buildId)).type).toBe('BuildPushed');

    // The fix: the route answers again; a probe half-opens the circuit, a trial push closes it.
    await proxy.setMode({ kind: 'pass' });
    const halfOpened = await routeEvent('RegistryCircuitHalfOpened', opened.globalPosition);
    const trial = await submit('acme', 'org', 'after');
    expect((await pushed(trial)).type).toBe('BuildPushed');
    const closed = await routeEvent('RegistryCircuitClosed', halfOpened.globalPosition);

    // ---------------------------------------------------------------- the story, from the log
    const log = await store.readAll();
    const all = [...healthy, ...during, trial];
    const ofBuild = (buildId: string) => log.filter((event) => event.data.buildId === buildId);

    // Every build reached exactly one terminal state, pushed, and none was lost or duplicated.
    for (const buildId of all) {
      const events = ofBuild(buildId);
      expect(events.filter((event) => event.type === 'BuildQueued')).toHaveLength(1);
      expect(events.filter((event) => event.type === 'BuildPushed')).toHaveLength(1);
      expect(events.at(-1)!.type).toBe('BuildPushed');
      // Within each attempt: one start, at most one push start; attempts are numbered 1, 2, 3…
      const starts = events.filter((event) => event.type === 'BuildStarted').map((event) => event.data.attempt);
      expect(starts).toEqual(starts.map((_, index) => index + 1));
      expect(pushStartsPerAttempt(events).every((count) => count <= 1)).toBe(true);
    }

    // Before the fault, pushes went through the primary route, with no fallback.
    for (const buildId of healthy) {
      expect(ofBuild(buildId).find((event) => event.type === 'BuildPushStarted')!.data.registryEndpoint).toBe('primary');
      expect(ofBuild(buildId).some((event) => event.type === 'BuildFellBack')).toBe(false);
    }

    // During the fault: pushes to primary timed out and were retried with a reason and a not-before time.
    const timeouts = log.filter((event) => event.type === 'BuildFailed' && event.data.failureClass === 'registry-timeout' && during.includes(String(event.data.buildId)));
    expect(timeouts.length).toBeGreaterThanOrEqual(2);
    for (const failure of timeouts) {
      const retry = log.find((event) => event.type === 'BuildRetryScheduled' && event.data.buildId === failure.data.buildId && event.data.attempt === Number(failure.data.attempt) + 1);
      expect(retry).toBeDefined();
      expect(retry!.data).toMatchObject({ failureClass: 'registry-timeout', reason: expect.stringContaining('registry-timeout') });
      expect(Date.parse(String(retry!.data.notBefore))).toBeGreaterThan(Date.parse(failure.metadata.occurredAt));
    }

    // The circuit opened on evidence: the timed-out pushes through primary.
    expect(opened.data).toMatchObject({ endpoint: 'primary', trial: false, threshold: 0.5 });
    expect(Number(opened.data.failureRate)).toBeGreaterThanOrEqual(0.5);
    const evidence = opened.data.evidence as { buildId: string; failureClass: string }[];
    expect(evidence.length).toBeGreaterThanOrEqual(2);
    expect(evidence.every((item) => item.failureClass === 'registry-timeout' && during.includes(item.buildId))).toBe(true);

    // While it was open, every build of the fault that pushed did so through secondary, each move recorded.
    for (const buildId of during) {
      const events = ofBuild(buildId);
      const landed = events.filter((event) => event.type === 'BuildPushStarted').at(-1)!;
      expect(landed.data.registryEndpoint).toBe('secondary');
      const move = events.find((event) => event.type === 'BuildFellBack' && event.globalPosition < landed.globalPosition);
      expect(move?.data).toMatchObject({ scope: 'registry', from: 'primary', to: 'secondary', reason: expect.stringContaining('circuit of registry endpoint primary is open') });
      expect(move!.globalPosition).toBeGreaterThan(opened.globalPosition);
      expect(events.find((event) => event.type === 'BuildPushed')!.data.registry).toBe(secondary.addr);
    }

    // Recovery: half-open after a healthy probe, closed by the trial build's push through primary.
    expect(halfOpened.data).toMatchObject({ endpoint: 'primary', openedAt: opened.metadata.occurredAt, probe: { detail: expect.stringContaining('401') } });
    expect(closed.data).toMatchObject({ endpoint: 'primary', trialBuildId: trial, trialAttempt: 1 });
    expect(ofBuild(trial).find((event) => event.type === 'BuildPushStarted')!.data.registryEndpoint).toBe('primary');

    // The circuit's own stream tells the story in order.
    const circuit = log.filter((event) => event.streamName === 'registry-endpoint-primary').map((event) => event.type);
    expect(circuit).toEqual(['RegistryCircuitOpened', 'RegistryCircuitHalfOpened', 'RegistryCircuitClosed']);

    // Same namespace on both routes: an image pushed through secondary is served by the primary route.
    const signer = RegistryTokenSigner.fromFiles({ key: primary.keyPath, cert: primary.certPath }, { issuer: 'build-orchestrator', audience: primary.service });
    const first = ofBuild(during[0]).find((event) => event.type === 'BuildPushed')!;
    const token = signer.sign('test', [{ type: 'repository', name: String(first.data.repository), actions: ['pull'] }], new Date(), 60).token;
    const manifest = await fetch(`http://${proxy.addr}/v2/${first.data.repository}/manifests/${first.data.digest}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(manifest.status).toBe(200);
  }, 240_000);
});

/** How many BuildPushStarted each attempt of one build's events has. */
const pushStartsPerAttempt = (events: RecordedEvent[]): number[] => {
  const counts: number[] = [];
  let attempt = 0;
  for (const event of events) {
    if (event.type === 'BuildStarted') attempt = Number(event.data.attempt);
    if (event.type === 'BuildPushStarted') counts[attempt] = (counts[attempt] ?? 0) + 1;
  }
  return counts.filter((count) => count !== undefined);
};
