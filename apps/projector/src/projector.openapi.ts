import { OpenApiInfo } from '@lib/shared';

/** The title and introduction of the query API's OpenAPI document (GET /openapi.json, GET /docs). */
export const PROJECTOR_API: OpenApiInfo = {
  title: 'Build orchestrator: query API',
  version: '0.1.0',
  description: [
    'The query side: read models folded from the event log (builds, queue, backends, statistics, incidents and their analyses), the audit history of a build, the log itself as NDJSON, and build status changes as server-sent events.',
    'Reads are eventually consistent: pass `minPosition` (the position a command returned) to wait until a view includes your write.',
    'Errors are `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`, `instance`, `correlationId` and, for invalid fields, `errors[{field, message}]`.',
  ].join('\n\n'),
};
