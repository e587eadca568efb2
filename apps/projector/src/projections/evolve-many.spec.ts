import { BuildEvent, buildStream, FailureClass, routeStream } from '@lib/domain';
import {
  buildCanceled,
  buildExpired,
  buildFailed,
  buildFellBack,
  buildImageBuilt,
  buildPushed,
  buildPushStarted,
  buildQueued,
  buildRef,
  buildRetriesExhausted,
  buildRetryScheduled,
  buildStarted,
  buildTimedOut,
} from '@lib/domain/testing/build.fixtures';
import { deepFreeze } from '@lib/domain/testing/decider-spec';
import { circuitOpened, REGISTRY_ENDPOINT } from '@lib/domain/testing/route.fixtures';
import { RecordedEvent } from '@lib/event-store';
import { buildStatsProjection } from './build-stats.projection';
import { buildStatusProjection } from './build-status.projection';
import { AnyProjection, evolveAll, handles } from './projection';
import { queueProjection } from './queue.projection';
import { routesProjection } from './routes.projection';

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed from its seed. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const BACKENDS = ['docker-primary', 'docker-secondary'];
const ENDPOINTS = ['registry-v2.example.com', 'registry-v1.example.com'];
const CLASSES: FailureClass[] = ['registry-timeout', 'auth-denied', 'infrastructure', 'build-error'];

/**
 * A log of interleaved builds with every kind of ending (pushed, failed, retried, fell back, timed
 * out, canceled, expired), plus circuit events, as recorded events in log order.
 */
const randomLog = (seed: number, builds: number): RecordedEvent[] => {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const lives: BuildEvent[][] = Array.from({ length: builds }, (_, n) => {
    const ref = buildRef({ buildId: `b${String(n).padStart(4, '0')}`, org: pick(['acme', 'globex', 'initech']), accountType: pick(['org', 'user'] as const) });
    const start = Date.parse('2026-11-16T09:00:00.000Z') + Math.floor(random() * 7_200_000);
    let t = start;
    const at = () => new Date((t += 1000 + Math.floor(random() * 90_000))).toISOString();
    const events: BuildEvent[] = [buildQueued({ ...ref, priority: Math.floor(random() * 3) }, { occurredAt: new Date(start).toISOString() })];
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const backend = pick(BACKENDS);
      const startedAt = at();
      if (random() < 0.05) {
        events.push(buildExpired(ref, { occurredAt: startedAt }));
        break;
      }
      events.push(buildStarted({ ...ref, attempt, backend, readySince: events[events.length - 1].metadata.occurredAt }, { occurredAt: startedAt }));
      const place = { backend, registryEndpoint: null, startedAt };
      const roll = random();
      if (roll < 0.1) {
        events.push(buildFailed({ ...ref, ...place, attempt, failureClass: pick(CLASSES) }, { occurredAt: at() }));
        if (random() < 0.5) {
          events.push(buildRetryScheduled({ ...ref, attempt: attempt + 1, notBefore: at() }, { occurredAt: events[events.length - 1].metadata.occurredAt }));
          continue;
        }
        events.push(buildRetriesExhausted({ ...ref, attempt }, { occurredAt: events[events.length - 1].metadata.occurredAt }));
        break;
      }
      if (roll < 0.15) {
        events.push(buildCanceled(ref, { occurredAt: at() }));
        break;
      }
      events.push(buildImageBuilt({ ...ref, backend }, { occurredAt: at() }));
      let registryEndpoint = pick(ENDPOINTS);
      if (random() < 0.2) {
        events.push(buildFellBack({ ...ref, scope: 'registry', from: registryEndpoint, to: ENDPOINTS[1] }, { occurredAt: at() }));
        registryEndpoint = ENDPOINTS[1];
      }
      events.push(buildPushStarted({ ...ref, registryEndpoint }, { occurredAt: at() }));
      const ending = random();
      if (ending < 0.15) events.push(buildTimedOut({ ...ref, ...place, registryEndpoint, attempt, phase: 'push' }, { occurredAt: at() }));
      else if (ending < 0.35) {
        events.push(buildFailed({ ...ref, ...place, registryEndpoint, attempt, failureClass: 'registry-timeout' }, { occurredAt: at() }));
        if (attempt < 3) {
          events.push(buildRetryScheduled({ ...ref, attempt: attempt + 1, notBefore: at() }, { occurredAt: events[events.length - 1].metadata.occurredAt }));
          continue;
        }
      } else events.push(buildPushed({ ...ref, ...place, registryEndpoint, attempt }, { occurredAt: at() }));
      break;
    }
    return events;
  });
  // Interleave the builds' lives at random, keeping each build's own order; circuit events between them.
  const cursors = lives.map(() => 0);
  const log: RecordedEvent[] = [];
  const revisions = new Map<string, number>();
  const push = (streamName: string, event: { type: string; data: object; metadata: RecordedEvent['metadata'] }) => {
    const streamRevision = revisions.get(streamName) ?? 0;
    revisions.set(streamName, streamRevision + 1);
    log.push({ ...event, data: event.data as Record<string, unknown>, streamName, streamRevision, globalPosition: log.length + 1, recordedAt: event.metadata.occurredAt });
  };
  for (let left = lives.reduce((sum, life) => sum + life.length, 0); left > 0; left -= 1) {
    const candidates = lives.flatMap((life, index) => (cursors[index] < life.length ? [index] : []));
    const index = pick(candidates);
    const event = lives[index][cursors[index]++];
    push(buildStream(event.data.buildId), event);
    if (random() < 0.01) push(routeStream(REGISTRY_ENDPOINT), circuitOpened(REGISTRY_ENDPOINT));
  }
  return log;
};

/** Folds the log the way the runner does: batches of `batchSize`, each document's events together. */
const foldInBatches = (projection: AnyProjection, log: readonly RecordedEvent[], batchSize: number, many: boolean): Map<string, string> => {
  const documents = new Map<string, unknown>();
  for (let from = 0; from < log.length; from += batchSize) {
    const pending = new Map<string, RecordedEvent[]>();
    for (const event of log.slice(from, from + batchSize).filter((candidate) => handles(projection, candidate))) {
      for (const id of projection.documentIds(event)) pending.set(id, [...(pending.get(id) ?? []), event]);
    }
    for (const [id, events] of pending) {
      const before = deepFreeze(documents.get(id) ?? null);
      const after = many
        ? evolveAll(projection, before, events, id)
        : events.reduce((doc, event) => projection.evolve(doc, event, id), before as unknown);
      if (after === null) documents.delete(id);
      else documents.set(id, after);
    }
  }
  return new Map([...documents].map(([id, doc]) => [id, JSON.stringify(doc)]));
};

describe('evolveMany: folding a batch at once gives, byte for byte, what evolve gives event by event', () => {
  const projections = [buildStatusProjection, buildStatsProjection, routesProjection, queueProjection];
  // Whole logs, and logs cut short while builds wait and run (the queue view forgets finished ones).
  const logs = [1, 2, 3].flatMap((seed) => {
    const log = deepFreeze(randomLog(seed, 60));
    return [{ seed, log }, { seed, log: log.slice(0, Math.floor(log.length * 0.4)) }];
  });

  it.each(projections.map((projection) => [projection.name, projection] as const))('%s', (_, projection) => {
    let documents = 0;
    for (const { seed, log } of logs) {
      const oneByOne = foldInBatches(projection, log, 1, false);
      documents += oneByOne.size;
      for (const batchSize of [7, 100, log.length]) {
        expect({ seed, batchSize, documents: foldInBatches(projection, log, batchSize, true) }).toEqual({ seed, batchSize, documents: oneByOne });
      }
    }
    expect(documents).toBeGreaterThan(0);
  });
});
