import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStream, EventMetadata, executorStream, OrgScope, principalStream, routeOf, RouteEvent, routeStream } from '@lib/domain';
import { buildFailed, buildQueued, buildStarted } from '@lib/domain/testing/build.fixtures';
import { executorStarted, routeDrained } from '@lib/domain/testing/route.fixtures';
import { NewEvent, SqliteEventStore } from '@lib/event-store';
import { Clock } from '@lib/shared';
import { PROJECTIONS } from '../../projector.providers';
import { ReadStore } from '../../read-store/read-store.port';
import { SqliteReadStore } from '../../read-store/sqlite-read-store';
import { ProjectionRunner } from '../../runner/projection-runner';

/**
 * A small installation for the access tests: builds of two orgs (acme and globex) on one backend, a
 * globex build that failed there, a backend an SRE drained, an executor, and a principal with a
 * token. The log lies in a real SQLite event store (in memory); the real runner projects it into a
 * real SQLite read store, so that every query handler reads what it reads in production.
 */

export const UNSCOPED: OrgScope = { kind: 'all' };
export const ACME_ONLY: OrgScope = { kind: 'orgs', orgs: new Set(['acme']) };
export const NO_ORG: OrgScope = { kind: 'orgs', orgs: new Set() };

export const BUILDS = {
  acme1: 'a0000000-0000-4000-8000-000000000001',
  acme2: 'a0000000-0000-4000-8000-000000000002',
  globex1: 'b0000000-0000-4000-8000-000000000001',
  globex2: 'b0000000-0000-4000-8000-000000000002',
  globex3: 'b0000000-0000-4000-8000-000000000003',
} as const;
export const NOW = '2026-11-16T10:00:00.000Z';
export const GLOBEX_FAILURE = 'RUN ./build-globex.sh exited with code 2';
export const TOKEN_HASH = 'f'.repeat(64);

const at = (minute: number): string => `2026-11-16T09:${String(minute).padStart(2, '0')}:00.000Z`;
const ref = (buildId: string, org: string) => ({ buildId, org, repo: `${org}-app` });

type Entry = { stream: string; event: NewEvent };
const build = (event: NewEvent & { data: { buildId: string } }): Entry => ({ stream: buildStream(event.data.buildId), event });
const route = (event: RouteEvent): Entry => ({ stream: routeStream(routeOf(event)), event });
const principal = (type: string, data: Record<string, unknown>): Entry => ({
  stream: principalStream('ci'),
  event: { type, data: { principalId: 'ci', ...data }, metadata: { actor: 'admin', correlationId: 'setup', causationId: 'setup', schemaVersion: 1, occurredAt: at(4) } as EventMetadata },
});

/** The log in order; each entry is appended on its own, so its position is its index + 1. */
const entries = (): Entry[] => [
  { stream: executorStream('node-1/a'), event: executorStarted({}, { occurredAt: at(0) }) },
  build(buildQueued(ref(BUILDS.acme1, 'acme'), { occurredAt: at(1) })),
  build(buildQueued(ref(BUILDS.globex1, 'globex'), { occurredAt: at(1) })),
  build(buildStarted({ ...ref(BUILDS.acme1, 'acme'), backend: 'docker-primary', readySince: at(1) }, { occurredAt: at(2) })),
  build(buildStarted({ ...ref(BUILDS.globex1, 'globex'), backend: 'docker-primary', readySince: at(1) }, { occurredAt: at(2) })),
  principal('PrincipalCreated', { role: 'builder', orgs: ['acme'], description: 'the CI of acme' }),
  principal('ApiTokenIssued', { tokenId: 't1', hash: TOKEN_HASH, label: 'ci', expiresAt: null }),
  build(buildFailed({ ...ref(BUILDS.globex1, 'globex'), phase: 'build', failureClass: 'build-error', message: GLOBEX_FAILURE, backend: 'docker-primary', registryEndpoint: null }, { occurredAt: at(5) })),
  route(routeDrained({ kind: 'backend', name: 'docker-secondary' }, { drainedBy: 'sre-on-call', reason: 'kernel upgrade' }, { occurredAt: at(6) })),
  build(buildQueued(ref(BUILDS.acme2, 'acme'), { occurredAt: at(7) })),
  build(buildQueued(ref(BUILDS.globex2, 'globex'), { occurredAt: at(8) })),
  build(buildQueued(ref(BUILDS.globex3, 'globex'), { occurredAt: at(9) })),
  build(buildStarted({ ...ref(BUILDS.globex3, 'globex'), backend: 'docker-primary', readySince: at(9) }, { occurredAt: at(10) })),
];

export class FixedClock extends Clock {
  now(): Date {
    return new Date(NOW);
  }
}

export type TwoOrgs = Readonly<{ store: SqliteEventStore; readStore: ReadStore; clock: Clock; close: () => Promise<void> }>;

/** Writes the log (fresh event ids), projects all of it, and hands both stores over. */
export const twoOrgs = async (): Promise<TwoOrgs> => {
  const directory = mkdtempSync(join(tmpdir(), 'two-orgs-'));
  const store = new SqliteEventStore({ path: ':memory:' });
  const readStore = new SqliteReadStore({ path: join(directory, 'read-models.sqlite') });
  for (const [index, { stream, event }] of entries().entries()) {
    await store.append(stream, [{ ...event, metadata: { ...event.metadata, eventId: `e0000000-0000-4000-8000-${String(index + 1).padStart(12, '0')}` } }]);
  }
  const runner = new ProjectionRunner(store, readStore, PROJECTIONS);
  await runner.start();
  await runner.reached(await store.headPosition());
  await runner.stop();
  return {
    store,
    readStore,
    clock: new FixedClock(),
    close: async () => {
      await readStore.close();
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
};
