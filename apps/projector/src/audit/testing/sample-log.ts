import { randomUUID } from 'node:crypto';
import { BuildEvent, buildStream, EXECUTOR_STREAM_PREFIX, EventMetadata, routeStream } from '@lib/domain';
import { buildCanceled, buildFailed, buildImageBuilt, buildPushed, buildPushStarted, buildQueued, buildRetryScheduled, buildStarted } from '@lib/domain/testing/build.fixtures';
import { V1_BUILD_ID, v1History } from '@lib/domain/testing/v1-events';
import { EventStore, NewEvent } from '@lib/event-store';

/**
 * A log as an installation has one: builds of two orgs whose events interleave, a route stream, an
 * executor stream, and a build written under schema 1. Every event has its own id and a time that
 * grows with its position (one second apart from 2026-11-16T09:00:00Z), except where a test says.
 */
export const ORGS = { acme: ['acme-1', 'acme-2', 'acme-3'], globex: ['globex-1', 'globex-2'] } as const;

const buildIds = new Map<string, string>();
/** A stable build id per name within one process (so tests can name builds). */
export const buildIdOf = (name: string): string => {
  if (!buildIds.has(name)) buildIds.set(name, randomUUID());
  return buildIds.get(name)!;
};

export const BASE_TIME = Date.UTC(2026, 10, 16, 9);
export const timeOf = (second: number): string => new Date(BASE_TIME + second * 1000).toISOString();

type Step = { stream: string; event: NewEvent };

const buildStep = (name: string, org: string, make: (data: object, metadata: Partial<EventMetadata>) => BuildEvent): Step => {
  const buildId = buildIdOf(name);
  return { stream: buildStream(buildId), event: make({ buildId, org, repo: name }, {}) };
};

/** The sample log's appends, in log order. */
const steps = (): Step[] => {
  const [a1, a2, a3] = ORGS.acme;
  const [g1, g2] = ORGS.globex;
  const drained: NewEvent = {
    type: 'BackendDrained',
    data: { backend: 'engine1', drainedBy: 'user:sre', reason: 'maintenance' },
    metadata: { eventId: randomUUID(), occurredAt: '', actor: 'user:sre', correlationId: 'drill', causationId: 'req-9', schemaVersion: 2 },
  };
  const executor: NewEvent = {
    type: 'ExecutorStarted',
    data: { executor: 'node-1/a', node: 'node-1', pid: 42, backends: ['engine1'], leaseTtlSeconds: 30 },
    metadata: { eventId: randomUUID(), occurredAt: '', actor: 'system:executor', correlationId: 'node-1/a', causationId: 'node-1/a', schemaVersion: 2 },
  };
  return [
    { stream: `${EXECUTOR_STREAM_PREFIX}node-1-a`, event: executor },
    buildStep(a1, 'acme', buildQueued),
    buildStep(g1, 'globex', buildQueued),
    buildStep(a1, 'acme', buildStarted),
    buildStep(a2, 'acme', buildQueued),
    buildStep(g1, 'globex', buildStarted),
    buildStep(a1, 'acme', buildImageBuilt),
    { stream: routeStream({ kind: 'backend', name: 'engine1' }), event: drained },
    buildStep(a1, 'acme', buildPushStarted),
    buildStep(g1, 'globex', buildImageBuilt),
    buildStep(a2, 'acme', buildCanceled),
    buildStep(a1, 'acme', buildPushed),
    buildStep(g2, 'globex', buildQueued),
    buildStep(g1, 'globex', buildPushStarted),
    buildStep(g1, 'globex', buildFailed),
    buildStep(g1, 'globex', buildRetryScheduled),
    buildStep(a3, 'acme', buildQueued),
  ];
};

/**
 * Appends the sample log one event per append, each with a fresh id and a time one second after
 * the previous one, then the schema-1 build as it was written. Returns the number of events.
 */
export const writeSampleLog = async (store: EventStore): Promise<number> => {
  const all = steps();
  for (const [second, { stream, event }] of all.entries()) {
    await store.append(stream, [{ ...event, metadata: { ...event.metadata, eventId: randomUUID(), occurredAt: timeOf(second) } }]);
  }
  await store.append(buildStream(V1_BUILD_ID), v1History());
  return all.length + v1History().length;
};

export const SAMPLE_ORG_EVENTS = { acme: 8 + v1History().length, globex: 7 } as const;
