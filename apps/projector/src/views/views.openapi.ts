import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { BUILD_STATUSES, FAILURE_CLASSES } from '@lib/domain';
import {
  ApiJsonResponse, ApiProblem, ApiProblems, ApiUuidParam, enumSchema, integerSchema, nullable, objectSchema, SchemaObject, SLUG, stringSchema, timeSchema, uuidSchema,
} from '@lib/shared';
import { BUCKET_SIZES } from '../projections/build-stats.projection';

/** The OpenAPI description of the dashboards' views (views.controller.ts). */

const count = (description?: string) => integerSchema(description, { minimum: 0 });
const rate = (description?: string) => nullable({ type: 'number', minimum: 0, maximum: 1, ...(description ? { description } : {}) });
const byFailureClass: SchemaObject = { type: 'object', description: 'Failures by failure class.', properties: Object.fromEntries(FAILURE_CLASSES.map((name) => [name, count()])) };
const percentiles: SchemaObject = objectSchema({ count: count('Samples.'), p50: nullable({ type: 'number' }), p95: nullable({ type: 'number' }), p99: nullable({ type: 'number' }) });

const queueOverview = objectSchema({
  totals: objectSchema({ queued: count(), ready: count('Queued and not waiting for a retry\'s not-before time.'), running: count() }),
  orgs: { type: 'array', items: objectSchema({ org: stringSchema(), queued: count(), ready: count(), running: count(), pushing: count(), oldestWaitSeconds: nullable({ type: 'number' }) }) },
  backends: { type: 'array', items: objectSchema({ backend: stringSchema(), running: count(), pushing: count(), orgs: count('Orgs with builds there.') }) },
});

const queuedEntry = objectSchema({
  buildId: uuidSchema(), repo: stringSchema(), priority: integerSchema(), queuedPosition: integerSchema(), readySince: timeSchema(), attempt: integerSchema(),
  position: integerSchema('1 = next in this org\'s line.'), ready: { type: 'boolean' }, waitSeconds: { type: 'number' },
});
const orgQueue = objectSchema({
  org: stringSchema(),
  queued: { type: 'array', items: queuedEntry, description: 'In the order the scheduler takes them.' },
  running: { type: 'array', items: objectSchema({ buildId: uuidSchema(), repo: stringSchema(), backend: stringSchema(), status: enumSchema(['running', 'pushing']), startedAt: timeSchema(), attempt: integerSchema(), priority: integerSchema(), queuedPosition: integerSchema() }) },
  awaitingRetry: { type: 'array', items: objectSchema({ buildId: uuidSchema(), priority: integerSchema(), queuedPosition: integerSchema(), failedAt: timeSchema() }) },
  lastPosition: integerSchema(),
});

const queuePosition = objectSchema({
  buildId: uuidSchema(), org: stringSchema(), status: enumSchema(BUILD_STATUSES),
  position: nullable(integerSchema('Its place in its org\'s line; null unless queued.')), ahead: nullable(count()), ready: nullable({ type: 'boolean' }), queueLength: count(),
});

const routeSummary = objectSchema({
  kind: enumSchema(['backend', 'registry']),
  name: stringSchema(),
  totals: { type: 'object', additionalProperties: count(), description: 'Outcomes since the log began.' },
  lastFailure: nullable(objectSchema({ buildId: uuidSchema(), attempt: integerSchema(), failureClass: enumSchema(FAILURE_CLASSES), message: stringSchema(), at: timeSchema() }, ['buildId', 'attempt', 'message'])),
  lastSuccessAt: nullable(timeSchema()),
  lastPosition: integerSchema(),
  circuit: enumSchema(['closed', 'open', 'half-open']),
  circuitSince: nullable(timeSchema()),
  openedAt: nullable(timeSchema()),
  drained: { type: 'boolean' },
  drainedBy: nullable(stringSchema()),
  drainReason: nullable(stringSchema()),
  recent: objectSchema({ minutes: count(), ok: count(), failed: count(), successRate: rate(), failureRate: rate() }),
});

const figures: Record<string, SchemaObject> = {
  started: count(), pushed: count(), failed: byFailureClass, failedTotal: count(), canceled: count(), expired: count(),
  successRate: rate('pushed / (pushed + failed); null when neither happened.'), buildDurationMs: percentiles, queueWaitMs: percentiles,
};
const stats = objectSchema({
  bucket: enumSchema(BUCKET_SIZES), dimension: enumSchema(['all', 'org', 'backend', 'endpoint']), key: stringSchema('The org, backend or endpoint; * for all.'),
  from: timeSchema(), to: timeSchema(),
  buckets: { type: 'array', items: objectSchema({ start: timeSchema(), ...figures }) },
  total: objectSchema(figures),
});

const routes = (kind: 'backend' | 'registry') => applyDecorators(
  ApiOperation({
    summary: kind === 'backend' ? 'Backends: outcomes, circuit and drain state' : 'Registry endpoints: outcomes, circuit and drain state',
    description: `Each ${kind === 'backend' ? 'backend' : 'registry endpoint'} seen in the log, with its totals, its recent success and failure rates over the last \`minutes\` minutes, its last failure, and its circuit and drain state. Failures of builds out of the principal's scope are counted but not shown.`,
  }),
  ApiJsonResponse(200, 'Every route seen in the log.', objectSchema({ items: { type: 'array', items: routeSummary } }), {
    items: [{ kind, name: kind === 'backend' ? 'engine-a' : 'registry-1', totals: { ok: 120, failed: 3 }, lastFailure: null, lastSuccessAt: '2026-11-16T09:00:03.100Z', lastPosition: 112, circuit: 'closed', circuitSince: null, openedAt: null, drained: false, drainedBy: null, drainReason: null, recent: { minutes: 15, ok: 14, failed: 0, successRate: 1, failureRate: 0 } }],
  }),
  ApiProblems(400, 503),
);

export const ViewsDocs = {
  controller: () => ApiTags('views'),

  queue: () => applyDecorators(
    ApiOperation({ summary: 'Queue overview', description: 'How many builds wait, are ready and run, per org in the principal\'s scope and per backend (counted over those orgs\' builds).' }),
    ApiJsonResponse(200, 'The queue.', queueOverview, { totals: { queued: 3, ready: 2, running: 1 }, orgs: [{ org: 'acme', queued: 3, ready: 2, running: 1, pushing: 0, oldestWaitSeconds: 12.5 }], backends: [{ backend: 'engine-a', running: 1, pushing: 0, orgs: 1 }] }),
    ApiProblems(503),
  ),

  orgQueue: () => applyDecorators(
    ApiOperation({ summary: 'One org\'s queue', description: 'What waits in the org\'s line (in the scheduler\'s order), what runs where, and what awaits a retry decision.' }),
    ApiParam({ name: 'org', description: 'An org slug in the principal\'s scope.', schema: { type: 'string', pattern: SLUG.source, maxLength: 64 }, example: 'acme' }),
    ApiJsonResponse(200, 'The org\'s queue.', orgQueue, {
      org: 'acme', queued: [{ buildId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b', repo: 'hello', priority: 5, queuedPosition: 101, readySince: '2026-11-16T09:00:00.000Z', attempt: 1, position: 1, ready: true, waitSeconds: 4.2 }],
      running: [], awaitingRetry: [], lastPosition: 101,
    }),
    ApiProblems(400, 503),
    ApiProblem(404, { code: 'org-not-found', detail: 'Org "globex" not found', description: 'An org out of the principal\'s scope is an org that does not exist.' }),
  ),

  queuePosition: () => applyDecorators(
    ApiOperation({ summary: 'A build\'s place in the queue', description: 'Where a build stands in its org\'s line, how many are ahead, and whether it is ready to run.' }),
    ApiUuidParam('buildId', 'The build\'s id (a lower-case UUID).'),
    ApiJsonResponse(200, 'Its place.', queuePosition, { buildId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b', org: 'acme', status: 'queued', position: 2, ahead: 1, ready: true, queueLength: 3 }),
    ApiProblems(400, 503),
    ApiProblem(404, { description: 'No such build, or a build of an org out of the principal\'s scope.' }),
  ),

  backends: () => routes('backend'),
  endpoints: () => routes('registry'),

  stats: () => applyDecorators(
    ApiOperation({ summary: 'Build statistics over time', description: 'Builds started, pushed, failed (by class), canceled and expired, success rate and duration percentiles, per bucket and in total; for all builds in scope or one org, backend or endpoint (one filter at a time).' }),
    ApiJsonResponse(200, 'The figures.', stats, {
      bucket: 'hour', dimension: 'org', key: 'acme', from: '2026-11-16T00:00:00.000Z', to: '2026-11-16T23:59:59.999Z',
      buckets: [{ start: '2026-11-16T09:00:00.000Z', started: 12, pushed: 11, failed: { 'build-error': 1 }, failedTotal: 1, canceled: 0, expired: 0, successRate: 0.9167, buildDurationMs: { count: 11, p50: 1800, p95: 4200, p99: 4200 }, queueWaitMs: { count: 12, p50: 300, p95: 1200, p99: 1200 } }],
      total: { started: 12, pushed: 11, failed: { 'build-error': 1 }, failedTotal: 1, canceled: 0, expired: 0, successRate: 0.9167, buildDurationMs: { count: 11, p50: 1800, p95: 4200, p99: 4200 }, queueWaitMs: { count: 12, p50: 300, p95: 1200, p99: 1200 } },
    }),
    ApiProblems(400, 503),
    ApiProblem(403, { code: 'forbidden-org', detail: 'org: not one of the orgs this principal may act on', description: 'The principal lacks builds:read, or the org filter is out of its scope.', extensions: { errors: [{ field: 'org', message: 'not one of the orgs this principal may act on' }] } }),
  ),
};
