import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ACCOUNT_TYPES, BUILD_STATUSES, FAILURE_CLASSES } from '@lib/domain';
import {
  ApiJsonResponse, ApiProblem, ApiProblems, ApiUuidParam, PROJECTION_BEHIND, enumSchema, integerSchema, nullable, objectSchema, SchemaObject, stringSchema, timeSchema, uuidSchema,
} from '@lib/shared';

/** The OpenAPI description of the build read model (builds.controller.ts), and the schemas the audit endpoints share. */

export const BUILD_ID = 'The build\'s id (a lower-case UUID).';

const text = (description?: string) => stringSchema(description);
const maybeText = (description?: string) => nullable(stringSchema(description));
const maybeTime = (description?: string) => nullable(timeSchema(description));

export const buildStatusSchema: SchemaObject = objectSchema({
  buildId: uuidSchema(),
  org: text(),
  repo: text(),
  accountType: enumSchema(ACCOUNT_TYPES),
  status: enumSchema(BUILD_STATUSES),
  source: objectSchema({ git: objectSchema({ url: text(), ref: text() }) }),
  dockerfile: text(),
  tag: text(),
  targetRepository: text('The registry repository the build pushes to (namespace/name).'),
  priority: integerSchema(undefined, { minimum: 0, maximum: 9 }),
  timeoutSeconds: nullable(integerSchema()),
  attempt: integerSchema('The current attempt (1 for the first).'),
  retries: integerSchema(),
  backend: maybeText('The engine of the current attempt.'),
  node: maybeText(),
  registryEndpoint: maybeText(),
  imageId: maybeText(),
  buildDurationMs: nullable(integerSchema()),
  registry: maybeText(),
  repository: maybeText(),
  digest: maybeText('The pushed image\'s digest.'),
  failure: nullable(objectSchema({ phase: text(), failureClass: enumSchema(FAILURE_CLASSES), message: text() })),
  fallbacks: { type: 'array', items: objectSchema({ scope: text(), from: text(), to: text(), reason: text(), at: timeSchema() }) },
  notBefore: maybeTime('A retry does not start before this time.'),
  retriesExhausted: maybeText('Why a transient failure was not retried again.'),
  canceledBy: maybeText(),
  timestamps: objectSchema({
    queuedAt: timeSchema(), startedAt: maybeTime(), imageBuiltAt: maybeTime(), pushStartedAt: maybeTime(), pushedAt: maybeTime(), failedAt: maybeTime(),
    retryScheduledAt: maybeTime(), canceledAt: maybeTime(), timedOutAt: maybeTime(), expiredAt: maybeTime(), updatedAt: timeSchema(),
  }),
  queuedPosition: integerSchema('Global position of the BuildQueued event.'),
  lastPosition: integerSchema('Global position of the last event applied to this view.'),
  eventCount: integerSchema(),
});

export const buildStatusExample = {
  buildId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b', org: 'acme', repo: 'hello', accountType: 'org', status: 'pushed',
  source: { git: { url: 'https://git.example.com/acme/hello.git', ref: 'main' } }, dockerfile: 'Dockerfile', tag: 'latest', targetRepository: 'acme/hello',
  priority: 5, timeoutSeconds: null, attempt: 1, retries: 0, backend: 'engine-a', node: 'engine-a', registryEndpoint: 'registry-1',
  imageId: 'sha256:5d0da3dc9764…', buildDurationMs: 1840, registry: '127.0.0.1:5000', repository: 'acme/hello', digest: 'sha256:9b2a…',
  failure: null, fallbacks: [], notBefore: null, retriesExhausted: null, canceledBy: null,
  timestamps: {
    queuedAt: '2026-11-16T09:00:00.000Z', startedAt: '2026-11-16T09:00:00.400Z', imageBuiltAt: '2026-11-16T09:00:02.240Z', pushStartedAt: '2026-11-16T09:00:02.250Z',
    pushedAt: '2026-11-16T09:00:03.100Z', failedAt: null, retryScheduledAt: null, canceledAt: null, timedOutAt: null, expiredAt: null, updatedAt: '2026-11-16T09:00:03.100Z',
  },
  queuedPosition: 101, lastPosition: 112, eventCount: 5,
};

/** One event of a build's stream as the history endpoints show it. */
export const historyEntrySchema: SchemaObject = objectSchema({
  globalPosition: integerSchema('Its place in the whole log.'),
  streamRevision: integerSchema('Its place in the build\'s stream (0 for BuildQueued).'),
  eventId: uuidSchema(),
  type: text('BuildQueued, BuildStarted, BuildPushed…'),
  occurredAt: timeSchema(),
  recordedAt: timeSchema(),
  actor: text('The principal (or component) that caused it.'),
  correlationId: text(),
  causationId: text(),
  schemaVersion: integerSchema(),
  data: { type: 'object', additionalProperties: true, description: 'The event\'s data.' },
});

export const historyEntryExample = {
  globalPosition: 101, streamRevision: 0, eventId: '0193a5b2-7c1e-7000-8000-000000000001', type: 'BuildQueued', occurredAt: '2026-11-16T09:00:00.000Z',
  recordedAt: '2026-11-16T09:00:00.002Z', actor: 'ci-acme', correlationId: '5f0c1e9e-3b7a-4a40-9a55-6a3c9a0f2a11', causationId: '5f0c1e9e-3b7a-4a40-9a55-6a3c9a0f2a11',
  schemaVersion: 1, data: { buildId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b', org: 'acme', repo: 'hello' },
};

const outOfScope = () => ApiProblem(403, {
  code: 'forbidden-org', detail: 'org: not one of the orgs this principal may act on', description: 'The principal lacks builds:read, or the org filter names an org out of its scope.',
  extensions: { errors: [{ field: 'org', message: 'not one of the orgs this principal may act on' }] },
});
const notFound = () => ApiProblem(404, { description: 'No such build, or a build of an org out of the principal\'s scope.' });

export const BuildsDocs = {
  controller: () => ApiTags('builds'),

  list: () => applyDecorators(
    ApiOperation({ summary: 'List builds', description: 'The builds of the orgs in the principal\'s scope, most recently queued first, filtered and paged (follow nextCursor).' }),
    ApiJsonResponse(200, 'A page of builds.', objectSchema({ items: { type: 'array', items: buildStatusSchema }, nextCursor: nullable(stringSchema('Pass it as cursor for the next page; null on the last page.')) }), { items: [buildStatusExample], nextCursor: null }),
    ApiProblems(400, 503),
    outOfScope(),
  ),

  get: () => applyDecorators(
    ApiOperation({ summary: 'Get a build', description: 'The build\'s status view. With minPosition, waits (briefly) for the view to include that event; with asOf, the build as it stood then, folded from the log.' }),
    ApiUuidParam('buildId', BUILD_ID),
    ApiJsonResponse(200, 'The build.', buildStatusSchema, buildStatusExample),
    ApiProblems(400),
    ApiProblem(503, PROJECTION_BEHIND),
    notFound(),
  ),

  events: () => applyDecorators(
    ApiOperation({ summary: 'List a build\'s events', description: 'Every event of the build\'s stream, in order.' }),
    ApiUuidParam('buildId', BUILD_ID),
    ApiJsonResponse(200, 'The build\'s events.', { type: 'array', items: historyEntrySchema }, [historyEntryExample]),
    ApiProblems(400, 503),
    notFound(),
  ),
};
