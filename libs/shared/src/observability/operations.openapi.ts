import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse } from '@nestjs/swagger';
import { ApiJsonResponse, ApiProblem, enumSchema, integerSchema, objectSchema, SchemaObject, stringSchema } from '../http/openapi';

const CHECK_SCHEMA: SchemaObject = objectSchema({
  name: stringSchema('The dependency: event-store, read-store, projection-runner, backend:<name>, registry:<name>.'),
  ok: { type: 'boolean', description: 'Whether it answered within the probe timeout.' },
  latencyMs: integerSchema('How long it took to answer (or to give up).'),
  detail: stringSchema('What it answered, or why it did not.'),
});

const CHECKS_EXAMPLE = [
  { name: 'event-store', ok: true, latencyMs: 1, detail: 'head at position 42' },
  { name: 'backend:x', ok: false, latencyMs: 3, detail: 'connect ENOENT /nonexistent.sock' },
];

/** GET /health (kept from the start: a quick look, with the log's head). */
export const ApiHealth = (app: 'orchestrator' | 'projector'): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: 'Health at a glance', description: 'The event store answers; the projector also says how far its projections are. No token needed. For probes, use /health/live and /health/ready.' }),
    app === 'orchestrator'
      ? ApiJsonResponse(200, 'Healthy.', objectSchema({ status: enumSchema(['ok']), app: enumSchema(['orchestrator']), eventStore: objectSchema({ headPosition: integerSchema('The last global position of the log.') }) }),
          { status: 'ok', app: 'orchestrator', eventStore: { headPosition: 42 } })
      : ApiJsonResponse(200, 'Healthy.', objectSchema({ status: enumSchema(['ok']), app: enumSchema(['projector']), headPosition: integerSchema('The last global position of the log.'), projectedPosition: integerSchema('The position every projection has reached.') }),
          { status: 'ok', app: 'projector', headPosition: 42, projectedPosition: 42 }),
    ApiProblem(503, app === 'orchestrator'
      ? { description: 'The event store does not answer.', code: 'event-store-unavailable', detail: 'The event store is unavailable' }
      : { description: 'The projection runner stopped on an error.', code: 'projector-failed', detail: 'The projection runner stopped: …' }),
  );

/** GET /health/live. */
export const ApiLiveness = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: 'Liveness: the process is up', description: 'Always 200 while the event loop turns; asks no dependency (restarting would not fix one). No token needed.' }),
    ApiJsonResponse(200, 'The process is live.', objectSchema({ status: enumSchema(['live']), app: enumSchema(['orchestrator', 'projector']) }), { status: 'live', app: 'orchestrator' }),
  );

/** GET /health/ready. */
export const ApiReadiness = (when: string): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: 'Readiness: the dependencies answer', description: `200 when ${when}; 503 with a problem naming what did not answer. No token needed.` }),
    ApiJsonResponse(
      200,
      'Every dependency answered.',
      objectSchema({ status: enumSchema(['ready']), app: enumSchema(['orchestrator', 'projector']), checks: { type: 'array', items: CHECK_SCHEMA }, failed: { type: 'array', items: stringSchema(), maxItems: 0 } }),
      { status: 'ready', app: 'orchestrator', checks: [CHECKS_EXAMPLE[0]], failed: [] },
    ),
    ApiProblem(503, {
      description: 'A dependency did not answer: `failed` names it (a check, or a group such as `backends` none of whose members answered), `checks` has every probe.',
      code: 'not-ready',
      detail: 'orchestrator is not ready: backends did not answer',
      extensions: { instance: '/health/ready', app: 'orchestrator', failed: ['backends'], checks: CHECKS_EXAMPLE },
    }),
  );

/** GET /metrics. */
export const ApiMetrics = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: 'Prometheus metrics of this app',
      description: 'The text exposition format (version 0.0.4). Every series is labelled `app`; series carry org names, hence operations:read. Scrape with a bearer token (see the README, Operations).',
    }),
    ApiProduces('text/plain'),
    ApiResponse({
      status: 200,
      description: 'The metrics.',
      content: {
        'text/plain; version=0.0.4': {
          schema: { type: 'string' },
          example: '# HELP build_orchestrator_queue_depth Builds waiting to start, per org\n# TYPE build_orchestrator_queue_depth gauge\nbuild_orchestrator_queue_depth{org="acme",app="orchestrator"} 3\n',
        },
      },
    }),
  );
