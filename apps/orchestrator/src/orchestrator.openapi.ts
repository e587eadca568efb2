import { OpenApiInfo } from '@lib/shared';

/** The title and introduction of the command API's OpenAPI document (GET /openapi.json, GET /docs). */
export const ORCHESTRATOR_API: OpenApiInfo = {
  title: 'Build orchestrator: command API',
  version: '0.1.0',
  description: [
    'The command side: queue, cancel and retry builds, drain backends and registry endpoints, annotate incidents, manage principals and their API tokens, and follow build logs.',
    'Every accepted command is an event in the log; read what happened on the projector (query API).',
    'Errors are `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`, `instance`, `correlationId` and, for invalid fields, `errors[{field, message}]`.',
    'Send `x-correlation-id` to tie a request to its events and log lines; every response echoes it.',
  ].join('\n\n'),
};
