import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ACCOUNT_TYPES, FAILURE_CLASSES, INCIDENT_MILESTONES } from '@lib/domain';
import {
  ApiJsonResponse, ApiProblem, ApiProblems, enumSchema, PROJECTION_BEHIND, integerSchema, nullable, objectSchema, SchemaObject, stringSchema, timeSchema, UUID_PATTERN, uuidSchema,
} from '@lib/shared';
import { BUCKET_SIZES } from '../projections/build-stats.projection';
import { INCIDENT_STATUSES } from './incident-view';

/** The OpenAPI description of incidents, their post-mortem drafts and the SREs' analyses (incidents.controller.ts). */

const count = (description?: string) => integerSchema(description, { minimum: 0 });
const seconds = (description?: string) => nullable({ type: 'number', minimum: 0, ...(description ? { description } : {}) });
const rate = () => nullable({ type: 'number', minimum: 0, maximum: 1 });
const list = (items: SchemaObject, description?: string): SchemaObject => ({ type: 'array', items, ...(description ? { description } : {}) });
const byClass: SchemaObject = { type: 'object', properties: Object.fromEntries(FAILURE_CLASSES.map((name) => [name, count()])) };

const durations = objectSchema({
  timeToDetectSeconds: seconds('From the effective impact start to detection; null until reached.'),
  timeToMitigateSeconds: seconds(),
  timeToResolveSeconds: seconds(),
});
const milestoneTimes = objectSchema({ impactStartedAt: nullable(timeSchema()), detectedAt: nullable(timeSchema()), mitigatedAt: nullable(timeSchema()), resolvedAt: nullable(timeSchema()) });
const impactFigures: Record<string, SchemaObject> = {
  attempts: count(), failedAttempts: count(), buildsAffected: count(), buildsFailed: count(), buildsRecovered: count(),
  accounts: objectSchema(Object.fromEntries(ACCOUNT_TYPES.map((type) => [type, count()]))),
};

const summary = objectSchema({
  id: uuidSchema(), title: stringSchema(), rule: stringSchema(), ruleKind: stringSchema(), dimension: stringSchema('What the rule groups by (backend, registry endpoint…).'),
  value: stringSchema('The group, e.g. engine-a.'), status: enumSchema(INCIDENT_STATUSES), milestones: milestoneTimes,
  correctedMilestones: list(enumSchema(INCIDENT_MILESTONES), 'Milestones whose effective time an operator set.'),
  impact: nullable(objectSchema(impactFigures)), durations,
});
const summaryExample = {
  id: '6b1f3c2a-9d4e-5f60-8a7b-1c2d3e4f5a6b', title: 'Push failures on engine-a', rule: 'push-failures-per-backend', ruleKind: 'failure-rate', dimension: 'backend', value: 'engine-a', status: 'resolved',
  milestones: { impactStartedAt: '2026-11-16T09:40:00.000Z', detectedAt: '2026-11-16T09:42:10.000Z', mitigatedAt: '2026-11-16T09:50:00.000Z', resolvedAt: '2026-11-16T10:20:00.000Z' },
  correctedMilestones: [], impact: { attempts: 40, failedAttempts: 12, buildsAffected: 10, buildsFailed: 2, buildsRecovered: 8, accounts: { org: 3, user: 1 } },
  durations: { timeToDetectSeconds: 130, timeToMitigateSeconds: 600, timeToResolveSeconds: 2400 },
};

const milestoneView = nullable(objectSchema({ at: timeSchema('The effective time.'), source: enumSchema(['detector', 'operator']), by: stringSchema(), reason: nullable(stringSchema('The detector\'s reason, or the operator\'s note.')) }));
const incident = objectSchema({
  id: uuidSchema(),
  rule: { type: 'object', additionalProperties: true, description: 'The rule that opened it, as configured.' },
  title: stringSchema(), dimension: stringSchema(), value: stringSchema(), status: enumSchema(INCIDENT_STATUSES),
  detection: objectSchema({ measured: { type: 'number' }, attempts: count(), matching: count(), openedAt: timeSchema(), openedBy: stringSchema() }),
  milestones: objectSchema(Object.fromEntries(INCIDENT_MILESTONES.map((name) => [name, milestoneView]))),
  durations,
  impact: nullable({ type: 'object', additionalProperties: true, description: 'The latest impact figures (attempts, builds, accounts, failure classes, places).' }),
  impactAsOf: nullable(timeSchema()),
  evidence: list({ type: 'object', additionalProperties: true }, 'The attempts that made the rule fire.'),
  timeline: list(objectSchema({
    at: timeSchema(), position: integerSchema(), kind: stringSchema('opened, milestone, milestone-corrected, fallback, circuit-opened, route-drained, note, resolved…'),
    milestone: nullable(enumSchema(INCIDENT_MILESTONES)), summary: stringSchema(), actor: stringSchema(), reference: nullable({ type: 'object', additionalProperties: true }),
  }), 'Ordered by time, then log position.'),
  notes: list(objectSchema({ at: timeSchema(), by: stringSchema(), text: stringSchema(), position: integerSchema() })),
  resolution: nullable(objectSchema({ at: timeSchema(), by: stringSchema(), reported: durations })),
  openedPosition: integerSchema(), lastPosition: integerSchema(), eventCount: count(),
}, ['impact', 'impactAsOf', 'resolution']);

const postmortem = objectSchema({
  incidentId: uuidSchema(), title: stringSchema(), status: enumSchema(INCIDENT_STATUSES),
  summary: objectSchema({ what: stringSchema(), when: stringSchema(), who: stringSchema(), impactStartedAt: nullable(timeSchema()), detectedAt: nullable(timeSchema()), mitigatedAt: nullable(timeSchema()), resolvedAt: nullable(timeSchema()) }),
  impact: nullable({ type: 'object', additionalProperties: true }),
  detection: { type: 'object', additionalProperties: true },
  mitigation: { type: 'object', additionalProperties: true },
  resolution: { type: 'object', additionalProperties: true },
  timeline: list({ type: 'object', additionalProperties: true }),
  contributingCauses: objectSchema({ failureClasses: list({ type: 'object', additionalProperties: true }), places: list({ type: 'object', additionalProperties: true }) }),
  notes: list(objectSchema({ at: timeSchema(), by: stringSchema(), text: stringSchema() })),
  corrections: list({ type: 'object', additionalProperties: true }),
  actionItems: list(stringSchema(), 'Always empty: for the incident owner to write.'),
});

const combination: Record<string, SchemaObject> = { failureClass: enumSchema(FAILURE_CLASSES), backend: stringSchema('- when none was named.'), registryEndpoint: stringSchema(), accountType: enumSchema(ACCOUNT_TYPES) };
const failureFigures: Record<string, SchemaObject> = { failed: count(), ended: count('Attempts that ended.'), failureRate: rate(), byClass };
const failureAnalysis = objectSchema({
  bucket: enumSchema(BUCKET_SIZES), from: timeSchema(), to: timeSchema(),
  buckets: list(objectSchema({ start: timeSchema(), ...failureFigures, combinations: list(objectSchema({ ...combination, failed: count() })) })),
  combinations: list(objectSchema({ ...combination, failed: count(), ended: count(), failureRate: rate() }), 'Most failed first.'),
  total: objectSchema(failureFigures),
});

const topAccounts = objectSchema({
  from: timeSchema(), to: timeSchema(),
  items: list(objectSchema({ accountType: enumSchema(ACCOUNT_TYPES), org: stringSchema(), failedAttempts: count() }), 'Most failed first.'),
  accounts: count('Accounts with at least one failed attempt.'), failedAttempts: count(),
});

const spread = objectSchema({ count: count(), p50: seconds(), p90: seconds(), max: seconds(), mean: seconds() });
const responseTimes: Record<string, SchemaObject> = { incidents: count(), timeToDetect: spread, timeToMitigate: spread, timeToResolve: spread };
const responseTimesReport = objectSchema({
  from: nullable(timeSchema()), to: nullable(timeSchema()), rule: nullable(stringSchema()),
  overall: objectSchema(responseTimes),
  rules: list(objectSchema({ rule: stringSchema(), ...responseTimes }), 'Per rule, by rule name.'),
});

const incidentId = () => ApiParam({ name: 'id', description: 'The incident\'s id (a lower-case UUID).', schema: { type: 'string', format: 'uuid', pattern: UUID_PATTERN.source }, example: summaryExample.id });
const notFound = () => ApiProblem(404, { code: 'incident-not-found', detail: `Incident ${summaryExample.id} does not exist`, description: 'No such incident.' });
const spreadExample = { count: 3, p50: 130, p90: 240, max: 240, mean: 150 };

export const IncidentsDocs = {
  controller: () => ApiTags('incidents'),

  list: () => applyDecorators(
    ApiOperation({ summary: 'List incidents', description: 'Incidents, most recently detected first, filtered and paged (follow nextCursor).' }),
    ApiJsonResponse(200, 'A page of incidents.', objectSchema({ items: list(summary), nextCursor: nullable(stringSchema('Pass it as cursor for the next page; null on the last page.')) }), { items: [summaryExample], nextCursor: null }),
    ApiProblems(400, 503),
  ),

  failures: () => applyDecorators(
    ApiOperation({ summary: 'Failure analysis', description: 'Failed attempts per bucket and over the range, by failure class × backend × registry endpoint × account type, with failure rates.' }),
    ApiJsonResponse(200, 'The analysis.', failureAnalysis, {
      bucket: 'hour', from: '2026-11-16T09:00:00.000Z', to: '2026-11-16T10:59:59.999Z',
      buckets: [{ start: '2026-11-16T09:00:00.000Z', failed: 12, ended: 40, failureRate: 0.3, byClass: { 'registry-timeout': 12 }, combinations: [{ failureClass: 'registry-timeout', backend: 'engine-a', registryEndpoint: 'registry-1', accountType: 'org', failed: 12 }] }],
      combinations: [{ failureClass: 'registry-timeout', backend: 'engine-a', registryEndpoint: 'registry-1', accountType: 'org', failed: 12, ended: 30, failureRate: 0.4 }],
      total: { failed: 12, ended: 40, failureRate: 0.3, byClass: { 'registry-timeout': 12 } },
    }),
    ApiProblems(400, 503),
  ),

  topAccounts: () => applyDecorators(
    ApiOperation({ summary: 'Accounts with the most failed attempts', description: 'The accounts (org and account type) with the most failed attempts over the range (by day).' }),
    ApiJsonResponse(200, 'The accounts.', topAccounts, { from: '2026-11-16T00:00:00.000Z', to: '2026-11-16T23:59:00.000Z', items: [{ accountType: 'org', org: 'acme', failedAttempts: 7 }], accounts: 1, failedAttempts: 7 }),
    ApiProblems(400, 503),
  ),

  responseTimes: () => applyDecorators(
    ApiOperation({ summary: 'Incident response times', description: 'Time to detect, mitigate and resolve (seconds from the effective impact start), over the incidents detected in the range, overall and per rule.' }),
    ApiJsonResponse(200, 'The response times.', responseTimesReport, {
      from: null, to: null, rule: null,
      overall: { incidents: 3, timeToDetect: spreadExample, timeToMitigate: spreadExample, timeToResolve: spreadExample },
      rules: [{ rule: 'push-failures-per-backend', incidents: 3, timeToDetect: spreadExample, timeToMitigate: spreadExample, timeToResolve: spreadExample }],
    }),
    ApiProblems(400, 503),
  ),

  get: () => applyDecorators(
    ApiOperation({ summary: 'Get an incident', description: 'The incident with its detection, milestones (as corrected by operators), durations, impact, evidence, timeline and notes. With minPosition, waits (briefly) for that event.' }),
    incidentId(),
    ApiJsonResponse(200, 'The incident.', incident),
    ApiProblems(400),
    ApiProblem(503, PROJECTION_BEHIND),
    notFound(),
  ),

  postmortem: () => applyDecorators(
    ApiOperation({ summary: 'Draft a post-mortem', description: 'A post-mortem draft from the incident\'s events: Markdown (`format=md`, the default, served as text/markdown) or the same content as JSON (`format=json`).' }),
    incidentId(),
    ApiResponse({
      status: 200,
      description: 'The draft: text/markdown for format=md, application/json for format=json.',
      content: {
        'text/markdown': { schema: { type: 'string' }, example: '# Push failures on engine-a\n\n## Summary\n\n…' },
        'application/json': { schema: postmortem },
      },
    }),
    ApiProblems(400),
    ApiProblem(503, PROJECTION_BEHIND),
    notFound(),
  ),
};
