import { join } from 'node:path';
import { DEFAULT_INCIDENT_RULES, DETECTOR_EVENT_TYPES, IncidentDetector, INCIDENT_STREAM_PREFIX, LoggedEvent } from '@lib/domain';
import { REFERENCE_DAY, referenceDay, referenceDayFacts } from '@lib/domain/testing/reference-day';
import { ImportedEvent, RecordedEvent, SqliteEventStore } from '@lib/event-store';
import { AppsUnderTest, http, startApp, stopApp } from './support/apps';
import { awaitEvent } from './support/events';

/**
 * The post mortem's day, generated as events with the scenario's own times (libs/domain/src/
 * testing/reference-day.ts), imported into a fresh installation. The orchestrator's detector reads
 * it from position 0 and writes the incidents; the projector drafts the post-mortems. Nothing here
 * depends on the clock: the same day gives the same incidents, ids and bytes, wherever it is replayed.
 */

const day = referenceDay();
const facts = referenceDayFacts(day);

/** What the pure detector makes of the day: the events the orchestrator must write, exactly. */
const expectedIncidentEvents = (() => {
  const detector = new IncidentDetector(DEFAULT_INCIDENT_RULES);
  return day.flatMap((event) => detector.handle(event)).flatMap(({ stream, events }) => events.map((event) => ({ stream, event })));
})();

const toImported = (events: readonly LoggedEvent[]): ImportedEvent[] => {
  const revisions = new Map<string, number>();
  return events.map((event) => {
    const streamRevision = revisions.get(event.streamName) ?? 0;
    revisions.set(event.streamName, streamRevision + 1);
    return { type: event.type, data: event.data, metadata: event.metadata, streamName: event.streamName, streamRevision };
  });
};

const importDay = async (dataDir: string): Promise<void> => {
  const store = new SqliteEventStore({ path: join(dataDir, 'events.sqlite') });
  try {
    await store.importEvents((async function* () {
      yield toImported(day);
    })());
  } finally {
    await store.close();
  }
};

const incidentEventsIn = async (store: SqliteEventStore): Promise<RecordedEvent[]> =>
  store.readAll({ filter: { streamPrefixes: [INCIDENT_STREAM_PREFIX] } });

/** Runs an installation over the imported day until its detector has written the last expected event. */
const installation = async () => {
  const apps = new AppsUnderTest();
  await importDay(apps.dataDir);
  await apps.start({ EXECUTOR_ENABLED: 'false', LOG_LEVEL: 'warn' });
  const store = new SqliteEventStore({ path: join(apps.dataDir, 'events.sqlite') });
  const last = expectedIncidentEvents[expectedIncidentEvents.length - 1].event.metadata.eventId;
  const lastWritten = await awaitEvent(store, 'the detector wrote its last incident event of the day', (event) => event.metadata.eventId === last, 60_000);
  return { apps, store, head: lastWritten.globalPosition };
};

describe('the reference day: incidents detected from the log, post-mortems drafted from the incidents', () => {
  let first: Awaited<ReturnType<typeof installation>>;
  let incidents: { id: string; rule: string; dimension: string; value: string }[];
  const postmortems = new Map<string, { md: string; json: string }>();
  const queries = () => first.apps.projector.url;
  const commands = () => first.apps.orchestrator.url;
  const sre = () => first.apps.as('sre');
  const incidentOf = (rule: string) => incidents.find((incident) => incident.rule === rule)!;

  beforeAll(async () => {
    expect(expectedIncidentEvents.length).toBeGreaterThan(0);
    first = await installation();
    const ids = [...new Set(expectedIncidentEvents.map(({ event }) => (event.data as { incidentId: string }).incidentId))];
    for (const id of ids) expect((await http('GET', `${queries()}/incidents/${id}?minPosition=${first.head}`)).status).toBe(200);
    incidents = (await http('GET', `${queries()}/incidents?limit=50`)).body.items;
    for (const { id } of incidents) {
      const md = await http('GET', `${queries()}/incidents/${id}/postmortem?format=md`);
      const json = await http('GET', `${queries()}/incidents/${id}/postmortem?format=json`);
      postmortems.set(id, { md: md.text, json: json.text });
    }
  }, 120_000);

  afterAll(async () => {
    await first?.store.close();
    await first?.apps.stop();
  });

  it('writes exactly the incident events the pure detector derives from the day, ids and bytes alike', async () => {
    const written = await incidentEventsIn(first.store);
    const detectorWritten = written.filter((event) => DETECTOR_EVENT_TYPES.includes(event.type as never));
    expect(detectorWritten.map((event) => JSON.stringify({ stream: event.streamName, type: event.type, data: event.data, metadata: event.metadata })))
      .toEqual(expectedIncidentEvents.map(({ stream, event }) => JSON.stringify({ stream, type: event.type, data: event.data, metadata: event.metadata })));
  });

  it('finds two incidents: auth failures of organisation accounts, and push timeouts on the new backend', () => {
    expect(incidents.map(({ rule, dimension, value }) => ({ rule, dimension, value })).sort((a, b) => a.rule.localeCompare(b.rule))).toEqual([
      { rule: 'auth-failures', dimension: 'accountType', value: 'org' },
      { rule: 'push-failures', dimension: 'backend', value: REFERENCE_DAY.backends.new },
    ]);
  });

  it('drafts the auth incident: org accounts only, its counts and times, detected after it started, mitigated when the primary route came back', async () => {
    const { id } = incidentOf('auth-failures');
    const incident = (await http('GET', `${queries()}/incidents/${id}`)).body;
    const postmortem = JSON.parse(postmortems.get(id)!.json);
    expect(incident.status).toBe('resolved');
    expect(incident.milestones['impact-started'].at).toBe(facts.times.firstAuthFailureAt);
    expect(Date.parse(incident.milestones.detected.at)).toBeGreaterThan(Date.parse(facts.times.firstAuthFailureAt));
    expect(Date.parse(incident.milestones.detected.at)).toBeLessThanOrEqual(Date.parse(facts.times.lastAuthFailureAt));
    expect(incident.milestones.mitigated.at).toBe(facts.times.registryCircuitClosedAt);
    expect(Date.parse(incident.milestones.resolved.at)).toBeGreaterThanOrEqual(Date.parse(facts.times.lastAuthFailureAt));
    expect(incident.impact.byAccountType.org).toEqual(expect.objectContaining({ accounts: facts.auth.orgAccounts, builds: facts.auth.orgBuilds, failedAttempts: facts.auth.failures }));
    expect(incident.impact.byAccountType.user).toEqual(expect.objectContaining({ accounts: 0, builds: 0, failedAttempts: 0 }));
    // Contributing causes: the auth denials, and whatever else the same builds ran into meanwhile.
    expect(incident.impact.failureClasses).toEqual(expect.objectContaining({ 'auth-denied': facts.auth.failures }));
    const detect = (Date.parse(incident.milestones.detected.at) - Date.parse(incident.milestones['impact-started'].at)) / 1000;
    expect(incident.durations.timeToDetectSeconds).toBe(detect);
    expect(postmortem).toEqual(expect.objectContaining({ actionItems: expect.anything() }));
    const md = postmortems.get(id)!.md;
    expect(md).toContain(facts.times.firstAuthFailureAt.slice(0, 16).replace('T', ' ').slice(0, 10));
    expect(md).toContain(REFERENCE_DAY.endpoints.secondary);
  });

  it('drafts the push incident: new-backend timeouts, retried and moved back to the legacy backend, with the fallback as mitigation', async () => {
    const { id } = incidentOf('push-failures');
    const incident = (await http('GET', `${queries()}/incidents/${id}`)).body;
    expect(incident.status).toBe('resolved');
    expect(incident.milestones['impact-started'].at).toBe(facts.times.firstPushTimeoutAt);
    expect(Date.parse(incident.milestones.detected.at)).toBeGreaterThan(Date.parse(facts.times.firstPushTimeoutAt));
    expect(incident.milestones.mitigated.at).toBe(facts.times.firstBackendFallbackAt);
    expect(incident.milestones.mitigated.reason).toMatch(/fall back from backend new-backend/);
    expect(incident.milestones.mitigated.reason).toContain(REFERENCE_DAY.backends.legacy);
    expect(Date.parse(incident.milestones.resolved.at)).toBeGreaterThanOrEqual(Date.parse(facts.times.lastPushTimeoutAt));
    expect(incident.impact).toEqual(expect.objectContaining({
      failedAttempts: facts.push.timeouts,
      buildsAffected: facts.push.builds,
      buildsRetried: facts.push.buildsRetried,
      buildsFellBack: facts.push.buildsFellBack,
      buildsRecovered: facts.push.buildsRecovered,
      buildsFailed: facts.push.buildsFailed,
    }));
    expect(incident.impact.byAccountType.org.builds + incident.impact.byAccountType.user.builds).toBe(facts.push.builds);
    expect(incident.impact.byAccountType.user.builds).toBeGreaterThan(0); // both account types were hit
    const md = postmortems.get(id)!.md;
    expect(md).toMatch(/## Mitigation[\s\S]*legacy-backend/);
    expect(md).toMatch(/## Action items\s+_To be written by the incident owner._/);
  });

  it('serves the SREs: failures by class × backend × endpoint × account type, the most affected accounts, response times', async () => {
    const range = `from=${REFERENCE_DAY.start}&to=${REFERENCE_DAY.end}`;
    const failures = (await http('GET', `${queries()}/incidents/analysis/failures?bucket=day&${range}&accountType=org&failureClass=auth-denied`)).body;
    expect(failures.total.failed).toBe(facts.auth.failures);
    // Every auth failure of the day: organisation builds pushing through the secondary route, from either backend.
    for (const combination of failures.combinations) {
      expect(combination).toEqual(expect.objectContaining({ failureClass: 'auth-denied', registryEndpoint: REFERENCE_DAY.endpoints.secondary, accountType: 'org' }));
    }
    expect(failures.combinations.reduce((sum: number, combination: { failed: number }) => sum + combination.failed, 0)).toBe(facts.auth.failures);
    const userAuth = (await http('GET', `${queries()}/incidents/analysis/failures?bucket=day&${range}&accountType=user&failureClass=auth-denied`)).body;
    expect(userAuth.total.failed).toBe(0);
    const top = (await http('GET', `${queries()}/incidents/analysis/top-accounts?${range}&limit=3`)).body;
    expect(top.items).toHaveLength(3);
    expect(top.items[0].failedAttempts).toBeGreaterThanOrEqual(top.items[2].failedAttempts);
    const times = (await http('GET', `${queries()}/incidents/analysis/response-times?${range}`)).body;
    expect(times.overall.incidents).toBe(2);
    expect(times.rules.map((rule: { rule: string }) => rule.rule).sort()).toEqual(['auth-failures', 'push-failures']);
  });

  describe('operators', () => {
    it('add notes and correct milestones, recorded with the actor; bad input is refused naming the field and writes nothing', async () => {
      const { id } = incidentOf('auth-failures');
      const before = (await incidentEventsIn(first.store)).length;
      for (const [path, body, field] of [
        ['notes', {}, 'text'],
        ['notes', { text: '' }, 'text'],
        ['milestones', { milestone: 'fixed', at: '2026-11-16T18:00:00Z' }, 'milestone'],
        ['milestones', { milestone: 'mitigated', at: 'yesterday' }, 'at'],
        ['milestones', { milestone: 'mitigated', at: '2099-01-01T00:00:00Z' }, 'at'],
      ] as const) {
        const refused = await http('POST', `${commands()}/incidents/${id}/${path}`, body, sre());
        expect({ path, body, status: refused.status, fields: refused.body.errors?.map((error: { field: string }) => error.field) }).toEqual({ path, body, status: 400, fields: [field] });
      }
      expect((await http('POST', `${commands()}/incidents/not-a-uuid/notes`, { text: 'x' }, sre())).status).toBe(400);
      expect((await http('POST', `${commands()}/incidents/00000000-0000-4000-8000-000000000000/notes`, { text: 'x' }, sre())).status).toBe(404);
      expect((await incidentEventsIn(first.store)).length).toBe(before);

      const note = await http('POST', `${commands()}/incidents/${id}/notes`, { text: 'Access keys of organisation accounts fail against the v1 registry.' }, sre());
      expect(note.status).toBe(201);
      const corrected = await http('POST', `${commands()}/incidents/${id}/milestones`, { milestone: 'mitigated', at: '2026-11-16T18:00:00.000Z', note: 'The fix was rolled out at 18:00.' }, sre());
      expect(corrected.status).toBe(201);
      const incident = (await http('GET', `${queries()}/incidents/${id}?minPosition=${corrected.body.position}`)).body;
      expect(incident.notes).toEqual([expect.objectContaining({ text: 'Access keys of organisation accounts fail against the v1 registry.', by: 'e2e-sre' })]);
      expect(incident.milestones.mitigated).toEqual(expect.objectContaining({ at: '2026-11-16T18:00:00.000Z', source: 'operator', by: 'e2e-sre' }));
      expect(incident.milestones.mitigated.detector.at).toBe(facts.times.registryCircuitClosedAt);
      const md = (await http('GET', `${queries()}/incidents/${id}/postmortem`)).text;
      expect(md).toContain('The fix was rolled out at 18:00.');
    });
  });

  describe('replay', () => {
    it('a restarted orchestrator reads the day again from position 0 and writes nothing twice', async () => {
      const before = await incidentEventsIn(first.store);
      await stopApp(first.apps.orchestrator);
      first.apps.orchestrator = await startApp('orchestrator', { DATA_DIR: first.apps.dataDir, EXECUTOR_ENABLED: 'false' });
      const detector = async () => (await http('GET', `${commands()}/incidents/detector`, undefined, sre())).body;
      // The detector reports its position once it has acted on the log; wait on its own log line, not a timer.
      await new Promise<void>((resolve, reject) => {
        const check = (line: string) => /caught up with the log/.test(line) && resolve();
        first.apps.orchestrator.output.forEach(check);
        first.apps.orchestrator.process.stdout!.on('data', (chunk: Buffer) => check(chunk.toString()));
        first.apps.orchestrator.process.once('exit', () => reject(new Error('the orchestrator exited')));
      });
      expect((await detector()).position).toBeGreaterThanOrEqual(first.head);
      expect(await incidentEventsIn(first.store)).toEqual(before);
    });

    it('a second installation given the same day from position 0 drafts byte-identical incidents and post-mortems', async () => {
      const second = await installation();
      try {
        const secondEvents = (await incidentEventsIn(second.store)).filter((event) => DETECTOR_EVENT_TYPES.includes(event.type as never));
        const firstEvents = (await incidentEventsIn(first.store)).filter((event) => DETECTOR_EVENT_TYPES.includes(event.type as never));
        const strip = (events: RecordedEvent[]) => events.map(({ streamName, streamRevision, type, data, metadata }) => ({ streamName, streamRevision, type, data, metadata }));
        expect(secondEvents.length).toBe(expectedIncidentEvents.length);
        expect(strip(secondEvents)).toEqual(strip(firstEvents));
        for (const { id } of incidents) {
          await http('GET', `${second.apps.projector.url}/incidents/${id}?minPosition=${second.head}`);
          const md = await http('GET', `${second.apps.projector.url}/incidents/${id}/postmortem?format=md`);
          const json = await http('GET', `${second.apps.projector.url}/incidents/${id}/postmortem?format=json`);
          expect({ id, md: md.text, json: json.text }).toEqual({ id, ...postmortems.get(id) });
        }
      } finally {
        await second.store.close();
        await second.apps.stop();
      }
    }, 120_000);
  });
});
