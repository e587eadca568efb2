import { writeFileSync } from 'node:fs';
import type { IncidentSummary } from '../../../projector/src/incidents/incidents.queries';
import type { IncidentView } from '../../../projector/src/incidents/incident-view';
import type { Command } from '../cli/command';
import { UsageError } from '../cli/errors';
import { EXIT } from '../cli/exit-codes';
import { Column, duration, renderFields, renderTable, utc } from '../format/table';
import { fetchPages, noteNextPage, PAGING_OPTIONS, printJson, queryFrom, segment, stringOption } from './shared';

export const INCIDENT_COLUMNS: readonly Column<IncidentSummary>[] = [
  { header: 'INCIDENT', cell: (incident) => incident.id, max: 36 },
  { header: 'STATUS', cell: (incident) => incident.status },
  { header: 'RULE', cell: (incident) => incident.rule, max: 28 },
  { header: 'SCOPE', cell: (incident) => `${incident.dimension}=${incident.value}`, max: 28 },
  { header: 'DETECTED (UTC)', cell: (incident) => utc(incident.milestones.detectedAt) },
  { header: 'RESOLVED (UTC)', cell: (incident) => utc(incident.milestones.resolvedAt) },
  { header: 'FAILED', cell: (incident) => incident.impact?.failedAttempts, align: 'right' },
  { header: 'TITLE', cell: (incident) => incident.title, max: 50 },
];

const list: Command = {
  path: ['incidents', 'list'],
  summary: 'list incidents, newest detected first (GET /incidents)',
  options: {
    status: { type: 'string', value: 'open|resolved', description: 'only open or resolved incidents' },
    rule: { type: 'string', value: 'NAME', description: 'only this rule' },
    from: { type: 'string', value: 'TIME', description: 'detected at or after (ISO-8601)' },
    to: { type: 'string', value: 'TIME', description: 'detected at or before (ISO-8601)' },
    ...PAGING_OPTIONS,
  },
  details: 'Needs incidents:read (the sre and auditor roles). --json prints { items, nextCursor }.',
  run: async (context) => {
    const page = await fetchPages<IncidentSummary>(context, 'projector', '/incidents', queryFrom(context.options, { status: 'status', rule: 'rule', from: 'from', to: 'to' }));
    if (context.json) printJson(context, page);
    else context.io.out(`${renderTable(INCIDENT_COLUMNS, page.items, '(no incidents)')}\n`);
    noteNextPage(context, page.nextCursor);
    return EXIT.ok;
  },
};

export const renderIncident = (incident: IncidentView): string => {
  const at = (milestone: keyof IncidentView['milestones']) => {
    const reached = incident.milestones[milestone];
    // An operator's time wins over the detector's: say so, so that nobody mistakes it for the detector's.
    return reached?.source === 'operator' ? `${utc(reached.at)} (set by ${reached.by})` : utc(reached?.at);
  };
  const summary = renderFields([
    ['incident', incident.id],
    ['title', incident.title],
    ['status', incident.status],
    ['rule', `${incident.rule.name} (${incident.rule.kind})`],
    ['scope', `${incident.dimension}=${incident.value}`],
    ['impact started', at('impact-started')],
    ['detected', `${at('detected')}, after ${duration(incident.durations.timeToDetectSeconds)}`],
    ['mitigated', `${at('mitigated')}, after ${duration(incident.durations.timeToMitigateSeconds)}`],
    ['resolved', `${at('resolved')}, after ${duration(incident.durations.timeToResolveSeconds)}`],
    ['builds affected', incident.impact?.buildsAffected],
    ['builds failed', incident.impact?.buildsFailed],
    ['failed attempts', incident.impact?.failedAttempts],
    ['notes', incident.notes.length],
  ]);
  const timeline = renderTable(
    [
      { header: 'TIME (UTC)', cell: (entry) => utc(entry.at) },
      { header: 'KIND', cell: (entry) => entry.kind, max: 22 },
      { header: 'ACTOR', cell: (entry) => entry.actor, max: 26 },
      { header: 'SUMMARY', cell: (entry) => entry.summary, max: 90 },
    ],
    incident.timeline,
    '(empty)',
  );
  return `${summary}\n\ntimeline:\n${timeline}`;
};

const show: Command = {
  path: ['incidents', 'show'],
  summary: 'an incident: milestones, durations, impact and timeline (GET /incidents/:id)',
  positionals: [{ name: 'INCIDENT_ID', required: true }],
  details: '--json prints the incident document.',
  run: async (context) => {
    const incident = await context.client().getJson<IncidentView>('projector', `/incidents/${segment(context.positionals[0])}`);
    if (context.json) printJson(context, incident);
    else context.io.out(`${renderIncident(incident)}\n`);
    return EXIT.ok;
  },
};

const FORMATS = ['md', 'json'];

const postmortem: Command = {
  path: ['incidents', 'postmortem'],
  summary: 'the incident\'s post-mortem draft (GET /incidents/:id/postmortem)',
  positionals: [{ name: 'INCIDENT_ID', required: true }],
  options: {
    format: { type: 'string', value: 'md|json', description: 'Markdown (default) or JSON; --json means --format json' },
    out: { type: 'string', short: 'o', value: 'FILE', description: 'write it to a file instead of standard output' },
  },
  run: async (context) => {
    const format = stringOption(context.options, 'format') ?? (context.json ? 'json' : 'md');
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
    const text = await context.client().getText('projector', `/incidents/${segment(context.positionals[0])}/postmortem`, { format });
    const out = stringOption(context.options, 'out');
    if (out === undefined) context.io.out(text.endsWith('\n') ? text : `${text}\n`);
    else {
      writeFileSync(out, text);
      context.io.err(`wrote ${Buffer.byteLength(text)} bytes to ${out}\n`);
    }
    return EXIT.ok;
  },
};

export const INCIDENT_COMMANDS: readonly Command[] = [list, show, postmortem];
