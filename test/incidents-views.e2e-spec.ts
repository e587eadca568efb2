import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildEvent, buildStream, IncidentEvent, incidentStream } from '@lib/domain';
import { buildFailed, buildPushed } from '@lib/domain/testing/build.fixtures';
import { SqliteEventStore } from '@lib/event-store';
import {
  at, byOperator, circuitClosed, circuitOpened, fellBack, firstFailure, impactUpdated, INCIDENT_ID, incidentOpened, incidentResolved, milestoneSet, mitigated,
  noteAdded, OTHER_SRE, resolvedReached, SRE,
} from '../apps/projector/src/incidents/testing/incident-fixtures';
import { http, HttpResult, RunningApp, startApp, stopApp } from './support/apps';

/**
 * Incidents through the started projector: the detector's and the SREs' incident events (and the
 * build events the failure analysis counts) are appended to the real SQLite log, the projector
 * projects them, and the endpoints answer over HTTP. Then `npm run projector -- rebuild` replays
 * the log from position 0 into new tables, in batches of another size, and every answer is the same
 * byte for byte.
 */

const CLI = join(__dirname, '../dist/apps/projector/src/cli.js');
const OPEN_ID = '3b5d7f91-0000-4000-8000-00000000a001';
const UNKNOWN_ID = '3b5d7f91-0000-4000-8000-00000000ffff';

const projectorCli = (env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk) => (out.stdout += chunk));
    child.stderr.on('data', (chunk) => (out.stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
  });

const eventId = (n: number) => `3b5d7f91-0000-4000-8000-${String(n).padStart(12, '0')}`;
const buildId = (n: number) => `b7000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Attempts on new-backend → registry-v1: org accounts' pushes denied, a user's pushed. */
const buildEvents = (): BuildEvent[] => [
  buildFailed({ buildId: buildId(1), org: 'acme', backend: 'new-backend', registryEndpoint: 'registry-v1', failureClass: 'auth-denied' }, { eventId: eventId(101), occurredAt: at('09:00:10') }),
  buildFailed({ buildId: buildId(2), org: 'acme', backend: 'new-backend', registryEndpoint: 'registry-v1', failureClass: 'auth-denied' }, { eventId: eventId(102), occurredAt: at('09:01:10') }),
  buildFailed({ buildId: buildId(3), org: 'globex', backend: 'new-backend', registryEndpoint: 'registry-v1', failureClass: 'auth-denied' }, { eventId: eventId(103), occurredAt: at('09:02:10') }),
  buildPushed({ buildId: buildId(4), org: 'solo', accountType: 'user', backend: 'new-backend', registryEndpoint: 'registry-v1' }, { eventId: eventId(104), occurredAt: at('09:03:10') }),
];

describe('incidents served by the projector', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-incidents-'));
  let projector: RunningApp | undefined;
  let store: SqliteEventStore;
  let url: string;
  let head: number;

  const append = async (stream: string, events: readonly (IncidentEvent | BuildEvent)[]): Promise<void> => {
    for (const event of events) head = (await store.append(stream, [event])).lastPosition;
  };

  beforeAll(async () => {
    // Small batches live; the rebuild below uses large ones: the documents must not depend on batching.
    projector = await startApp('projector', { DATA_DIR: dataDir, PROJECTOR_BATCH_SIZE: '2' });
    url = projector.url;
    store = new SqliteEventStore({ path: join(dataDir, 'events.sqlite'), pollIntervalMs: 5 });
    for (const event of buildEvents()) await append(buildStream(event.data.buildId), [event]);
    await append(incidentStream(INCIDENT_ID), [incidentOpened(), firstFailure(), impactUpdated(), fellBack(), circuitOpened(), mitigated()]);
    await append(incidentStream(INCIDENT_ID), [noteAdded({}, byOperator(SRE))]);
    await append(incidentStream(OPEN_ID), [incidentOpened({ incidentId: OPEN_ID, detectedAt: at('10:05:00'), impactStartedAt: at('10:01:00') }, { eventId: eventId(201) })]);
    await append(incidentStream(INCIDENT_ID), [circuitClosed(), resolvedReached(), incidentResolved(), milestoneSet({}, byOperator(OTHER_SRE))]);
    // Read-your-writes: the projector has projected everything once this answers.
    expect((await http('GET', `${url}/incidents/${INCIDENT_ID}?minPosition=${head}`)).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await stopApp(projector);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const expectProblem = (response: HttpResult, status: number, field: string | null) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    if (field) expect(response.body.errors).toEqual([expect.objectContaining({ field })]);
  };

  it('lists incidents newest detected first, filters them and pages through them', async () => {
    const all = await http('GET', `${url}/incidents`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((item: { id: string; status: string }) => [item.id, item.status])).toEqual([[OPEN_ID, 'open'], [INCIDENT_ID, 'resolved']]);
    expect(all.body.items[1]).toMatchObject({
      rule: 'push-auth-failures', dimension: 'registryEndpoint', value: 'registry-v1', correctedMilestones: ['mitigated'],
      milestones: { impactStartedAt: at('09:00:00'), detectedAt: at('09:05:00'), mitigatedAt: at('09:30:00'), resolvedAt: at('09:55:00') },
      durations: { timeToDetectSeconds: 300, timeToMitigateSeconds: 1800, timeToResolveSeconds: 3300 },
    });
    expect((await http('GET', `${url}/incidents?status=resolved&rule=push-auth-failures`)).body.items.map((item: { id: string }) => item.id)).toEqual([INCIDENT_ID]);
    expect((await http('GET', `${url}/incidents?to=${at('10:00:00')}`)).body.items.map((item: { id: string }) => item.id)).toEqual([INCIDENT_ID]);
    const first = await http('GET', `${url}/incidents?limit=1`);
    const second = await http('GET', `${url}/incidents?limit=1&cursor=${first.body.nextCursor}`);
    expect([...first.body.items, ...second.body.items].map((item: { id: string }) => item.id)).toEqual([OPEN_ID, INCIDENT_ID]);
    expect(second.body.nextCursor).toBeNull();
  });

  it('serves one incident\'s document, with the operator\'s correction and note, and 404 for an unknown one', async () => {
    const incident = await http('GET', `${url}/incidents/${INCIDENT_ID}`);
    expect(incident.body).toMatchObject({
      id: INCIDENT_ID, status: 'resolved', notes: [{ by: SRE }],
      milestones: { mitigated: { at: at('09:30:00'), source: 'operator', by: OTHER_SRE, detector: { at: at('09:12:00') } } },
      resolution: { reported: { timeToMitigateSeconds: 720 } },
    });
    const missing = await http('GET', `${url}/incidents/${UNKNOWN_ID}`);
    expectProblem(missing, 404, null);
    expect(missing.body).toMatchObject({ type: 'urn:build-orchestrator:problem:incident-not-found', detail: `Incident ${UNKNOWN_ID} does not exist` });
    expectProblem(await http('GET', `${url}/incidents/${UNKNOWN_ID}/postmortem`), 404, null);
  });

  it('serves the post-mortem draft as markdown by default, or as json', async () => {
    const markdown = await http('GET', `${url}/incidents/${INCIDENT_ID}/postmortem`);
    expect(markdown.status).toBe(200);
    expect(markdown.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(markdown.text).toMatch(/^# Post-mortem draft: Pushes to registry-v1 fail with authentication errors\n/);
    expect(markdown.text).toContain('## Action items\n\n_To be written by the incident owner._\n');
    const json = await http('GET', `${url}/incidents/${INCIDENT_ID}/postmortem?format=json`);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(json.body).toMatchObject({ incidentId: INCIDENT_ID, mitigation: { mitigatedAt: at('09:30:00'), timeToMitigateSeconds: 1800 }, actionItems: [] });
  });

  it('answers the SREs\' analyses: failures by class × backend × endpoint × account type, most affected accounts, response times', async () => {
    const failures = await http('GET', `${url}/incidents/analysis/failures?bucket=minute&from=${at('09:00:00')}&to=${at('09:05:00')}&backend=new-backend`);
    expect(failures.status).toBe(200);
    expect(failures.body.combinations).toEqual([
      { failureClass: 'auth-denied', backend: 'new-backend', registryEndpoint: 'registry-v1', accountType: 'org', failed: 3, ended: 3, failureRate: 1 },
    ]);
    expect(failures.body.total).toEqual({ failed: 3, ended: 4, failureRate: 0.75, byClass: { 'auth-denied': 3 } });
    expect(failures.body.buckets.map((bucket: { start: string }) => bucket.start)).toEqual([at('09:00:00'), at('09:01:00'), at('09:02:00'), at('09:03:00')]);

    const top = await http('GET', `${url}/incidents/analysis/top-accounts?from=${at('00:00:00')}&to=${at('23:59:00')}&limit=1`);
    expect(top.body).toEqual({ from: at('00:00:00'), to: at('23:59:00'), items: [{ accountType: 'org', org: 'acme', failedAttempts: 2 }], accounts: 2, failedAttempts: 3 });

    const times = await http('GET', `${url}/incidents/analysis/response-times?rule=push-auth-failures`);
    expect(times.body.overall).toEqual({
      incidents: 2,
      timeToDetect: { count: 2, p50: 240, p90: 300, max: 300, mean: 270 },
      timeToMitigate: { count: 1, p50: 1800, p90: 1800, max: 1800, mean: 1800 },
      timeToResolve: { count: 1, p50: 3300, p90: 3300, max: 3300, mean: 3300 },
    });
  });

  it('refuses bad parameters with a problem naming the field', async () => {
    const cases: [string, string][] = [
      ['incidents?status=closed', 'status'], ['incidents?limit=0', 'limit'], ['incidents?cursor=abc', 'cursor'], ['incidents?from=yesterday', 'from'],
      ['incidents?color=red', 'color'], ['incidents/not-an-id', 'id'], [`incidents/${INCIDENT_ID}/postmortem?format=pdf`, 'format'],
      ['incidents/analysis/failures?bucket=week', 'bucket'], ['incidents/analysis/failures?failureClass=oops', 'failureClass'],
      ['incidents/analysis/failures?backend=Bad!', 'backend'], ['incidents/analysis/failures?accountType=team', 'accountType'],
      [`incidents/analysis/failures?bucket=minute&from=2026-01-01T00:00:00Z&to=${at('00:00:00')}`, 'from'],
      ['incidents/analysis/top-accounts?limit=101', 'limit'], [`incidents/analysis/top-accounts?from=${at('10:00:00')}&to=${at('09:00:00')}`, 'from'],
      ['incidents/analysis/response-times?rule=no%20spaces', 'rule'], ['incidents/analysis/response-times?to=soon', 'to'],
    ];
    for (const [path, field] of cases) expectProblem(await http('GET', `${url}/${path}`), 400, field);
  });

  it('gives byte-identical documents and drafts after a rebuild from position 0, and verify finds the read models equal to a replay', async () => {
    const paths = [
      `incidents/${INCIDENT_ID}`, `incidents/${OPEN_ID}`, `incidents/${INCIDENT_ID}/postmortem`, `incidents/${INCIDENT_ID}/postmortem?format=json`, 'incidents',
      `incidents/analysis/failures?bucket=minute&from=${at('09:00:00')}&to=${at('09:05:00')}`, 'incidents/analysis/response-times',
    ];
    const before = await Promise.all(paths.map((path) => http('GET', `${url}/${path}`)));

    const rebuilt = await projectorCli({ DATA_DIR: dataDir, PROJECTOR_BATCH_SIZE: '1000' }, 'rebuild', 'incidents', 'failure-breakdown');
    // New generations, filled from position 0, are what readers read now.
    expect(rebuilt.stdout).toMatch(new RegExp(`^incidents: generation \\d+ \\(version 1\\) is live at position ${head}$`, 'm'));
    expect(rebuilt.stdout).toMatch(new RegExp(`^failure-breakdown: generation \\d+ \\(version 1\\) is live at position ${head}$`, 'm'));
    expect(rebuilt.code).toBe(0);

    const after = await Promise.all(paths.map((path) => http('GET', `${url}/${path}`)));
    after.forEach((response, index) => {
      expect({ path: paths[index], status: response.status, text: response.text }).toEqual({ path: paths[index], status: 200, text: before[index].text });
    });
    const verified = await projectorCli({ DATA_DIR: dataDir }, 'verify', 'incidents', 'failure-breakdown');
    expect(verified.stdout).toContain('verify: the read models equal a replay of the log\n');
    expect(verified.code).toBe(0);
  });
});
