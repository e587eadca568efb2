import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiJsonResponse, ApiProblem, ApiProblems, enumSchema, integerSchema, nullable, objectSchema, SchemaObject, stringSchema, timeSchema } from '@lib/shared';
import { DrainDto } from './drain.dto';

/** The OpenAPI description of the operators' switches and the live state of backends and registry endpoints (routes.controller.ts). */

const ROUTE_NAME = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' } as const;

const routeState: Record<string, SchemaObject> = {
  circuit: enumSchema(['closed', 'open', 'half-open'], 'The circuit breaker: open takes the route out of rotation until a probe succeeds.'),
  circuitSince: nullable(timeSchema('When the circuit last changed.')),
  drained: { type: 'boolean', description: 'Taken out of rotation by an operator.' },
  drainedBy: nullable(stringSchema('The principal who drained it.')),
  drainReason: nullable(stringSchema()),
};

const backends = objectSchema({
  items: { type: 'array', items: objectSchema({
    name: stringSchema(), dockerHost: stringSchema('The engine\'s address.'), concurrency: integerSchema('Builds it runs at once.'), running: integerSchema('Builds running or pushing there now.'), ...routeState,
  }) },
});

const endpoints = objectSchema({
  items: { type: 'array', items: objectSchema({
    name: stringSchema(), addr: stringSchema('host:port of the registry.'), preference: integerSchema('1 = tried first.'), pushing: integerSchema('Builds pushing there now.'), ...routeState,
  }) },
});

const switched = objectSchema({
  kind: enumSchema(['backend', 'registry']),
  name: stringSchema(),
  drained: { type: 'boolean' },
  changed: { type: 'boolean', description: 'false when it already was in that state (nothing written).' },
  position: nullable(integerSchema('The global position of the event written; null when nothing changed.')),
});

const routeState0 = { circuit: 'closed', circuitSince: null, drained: false, drainedBy: null, drainReason: null };

const drainSwitch = (kind: 'backend' | 'registry', drain: boolean) => applyDecorators(
  ApiOperation({
    summary: `${drain ? 'Drain' : 'Undrain'} a ${kind === 'backend' ? 'backend' : 'registry endpoint'}`,
    description: drain
      ? 'Takes it out of rotation: running builds finish, new ones go elsewhere. Appends RouteDrained with the actor (nothing when already drained).'
      : 'Puts it back into rotation. Appends RouteUndrained with the actor (nothing when not drained).',
  }),
  ApiParam({ name: 'name', description: `A configured ${kind === 'backend' ? 'backend' : 'registry endpoint'}'s name.`, schema: ROUTE_NAME, example: kind === 'backend' ? 'engine-a' : 'registry-1' }),
  ApiBody({ type: DrainDto, required: false }),
  ApiJsonResponse(200, 'The route\'s drain state after the command.', switched, { kind, name: kind === 'backend' ? 'engine-a' : 'registry-1', drained: drain, changed: true, position: 118 }),
  ApiProblems(400, 409, 503),
  ApiProblem(404, { code: `unknown-${kind === 'backend' ? 'backend' : 'registry-endpoint'}`, detail: `There is no ${kind === 'backend' ? 'backend' : 'registry endpoint'} named "nowhere"`, description: 'No such route is configured.' }),
);

export const RoutesDocs = {
  controller: () => ApiTags('routes'),

  backends: () => applyDecorators(
    ApiOperation({ summary: 'List backends and their live state', description: 'The configured build engines, how many builds each runs now, their circuit and drain state (from the orchestrator\'s in-memory cluster view).' }),
    ApiJsonResponse(200, 'Every configured backend.', backends, { items: [{ name: 'engine-a', dockerHost: 'unix:///var/run/docker.sock', concurrency: 2, running: 1, ...routeState0 }] }),
  ),

  endpoints: () => applyDecorators(
    ApiOperation({ summary: 'List registry endpoints and their live state', description: 'The configured registry endpoints in order of preference, how many pushes each carries now, their circuit and drain state.' }),
    ApiJsonResponse(200, 'Every configured registry endpoint.', endpoints, { items: [{ name: 'registry-1', addr: '127.0.0.1:5000', preference: 1, pushing: 0, ...routeState0 }] }),
  ),

  drainBackend: () => drainSwitch('backend', true),
  undrainBackend: () => drainSwitch('backend', false),
  drainEndpoint: () => drainSwitch('registry', true),
  undrainEndpoint: () => drainSwitch('registry', false),
};
