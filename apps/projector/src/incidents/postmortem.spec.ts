import { IncidentEvent, INCIDENT_DETECTOR_ACTOR } from '@lib/domain';
import { IncidentView } from './incident-view';
import { incidentsProjection } from './incidents.projection';
import { ACTION_ITEMS_PLACEHOLDER } from './postmortem-markdown';
import { postmortemOf, renderPostmortem } from './postmortem';
import {
  at, byOperator, incidentLog, incidentOpened, INCIDENT_ID, noteAdded, OTHER_SRE, recordIncidentEvents, SRE,
} from './testing/incident-fixtures';

const viewOf = (events: readonly IncidentEvent[]): IncidentView => {
  let view: IncidentView | null = null;
  for (const event of recordIncidentEvents(events, 41)) view = incidentsProjection.evolve(view, event, INCIDENT_ID);
  return view!;
};

/** The markdown's sections by their `## ` heading, in order, each with its lines. */
const sectionsOf = (markdown: string): Map<string, string> =>
  new Map(markdown.split(/^## /m).slice(1).map((section) => {
    const [heading, ...lines] = section.split('\n');
    return [heading, lines.join('\n').trim()];
  }));

const SECTIONS = ['Summary', 'Impact', 'Detection', 'Mitigation', 'Resolution', 'Timeline', 'Contributing causes', 'Notes', 'Milestone corrections', 'Action items'];

describe('post-mortem draft', () => {
  const resolved = viewOf(incidentLog());

  it('given a resolved incident, renders every section in order, under a title naming the incident', () => {
    const markdown = renderPostmortem(resolved, 'md');
    expect(markdown.split('\n').slice(0, 3)).toEqual([
      '# Post-mortem draft: Pushes to registry-v1 fail with authentication errors',
      '',
      `Incident \`${INCIDENT_ID}\` · resolved · drawn from the event log; times in UTC.`,
    ]);
    expect([...sectionsOf(markdown).keys()]).toEqual(SECTIONS);
    expect(markdown.endsWith('\n')).toBe(true);
    expect(markdown.endsWith('\n\n')).toBe(false);
  });

  it('summarises what, when and who', () => {
    expect(sectionsOf(renderPostmortem(resolved, 'md')).get('Summary')).toBe([
      '- **What:** Pushes to registry-v1 fail with authentication errors (pushes through registry endpoint registry-v1). 15 builds affected: 4 failed, 11 retried, 9 fell back, 10 recovered.',
      `- **When:** Impact started at ${at('09:00:00')} until ${at('09:55:00')} (resolved); detected at ${at('09:05:00')}, mitigated at ${at('09:30:00')}.`,
      '- **Who:** 6 org accounts (15 builds, 18 failed attempts) and 0 user accounts (0 builds, 0 failed attempts); 18 of 40 attempts failed.',
    ].join('\n'));
  });

  it('gives the impact with builds affected, failed, retried, fell back, recovered, per account type and the top accounts', () => {
    const impact = sectionsOf(renderPostmortem(resolved, 'md')).get('Impact')!;
    expect(impact).toContain(`_As of ${at('09:55:00')}._`);
    for (const line of ['| Builds affected | 15 |', '| Builds failed | 4 |', '| Builds retried | 11 |', '| Builds fell back | 9 |', '| Builds recovered | 10 |', '| org | 6 | 15 | 18 |', '| acme | org | 7 | 5 |']) {
      expect(impact).toContain(line);
    }
  });

  it('describes detection: rule, threshold, measured figure, when and how long it took', () => {
    expect(sectionsOf(renderPostmortem(resolved, 'md')).get('Detection')).toBe([
      '- **Rule:** `push-auth-failures` (failure-rate): Pushes fail with authentication errors',
      '- **Scope:** pushes through registry endpoint registry-v1',
      '- **Threshold:** 30.0% or more of the attempts ending in auth-denied within 300 s, per registry endpoint, over at least 10 attempts; resolved after 600 s under it',
      '- **Measured:** failure rate 45.0% (18 of 40 attempts)',
      `- **Detected at:** ${at('09:05:00')} (${INCIDENT_DETECTOR_ACTOR})`,
      '- **Time to detect:** 5m 0s (300 s)',
      '- **Evidence:** 2 build events',
    ].join('\n'));
  });

  it('describes mitigation (the automatic actions, and the operator\'s corrected time and note) and resolution', () => {
    const sections = sectionsOf(renderPostmortem(resolved, 'md'));
    expect(sections.get('Mitigation')).toBe([
      `- ${at('09:10:00')} — fallback — builds fell back from new-backend to legacy-backend (${INCIDENT_DETECTOR_ACTOR})`,
      `- ${at('09:12:00')} — circuit-opened — circuit of registry-v1 opened (${INCIDENT_DETECTOR_ACTOR})`,
      '',
      `- **Mitigated at:** ${at('09:30:00')} (${OTHER_SRE})`,
      '- **How:** the access-key fix was rolled out at 09:30',
      '- **Time to mitigate:** 30m 0s (1800 s)',
    ].join('\n'));
    expect(sections.get('Resolution')).toContain('- **Time to resolve:** 55m 0s (3300 s)');
    expect(sections.get('Milestone corrections')).toBe(
      `- Mitigated: set to ${at('09:30:00')} by ${OTHER_SRE} at 2026-11-16T11:00:00.000Z (was ${at('09:12:00')}; the detector had ${at('09:12:00')}): the access-key fix was rolled out at 09:30`,
    );
  });

  it('lists every timeline entry with its UTC time, escaping what would break the table', () => {
    const timeline = sectionsOf(renderPostmortem(resolved, 'md')).get('Timeline')!.split('\n');
    expect(timeline.slice(0, 2)).toEqual(['| Time (UTC) | Kind | What | By |', '| --- | --- | --- | --- |']);
    expect(timeline.slice(2)).toHaveLength(resolved.timeline.length);
    expect(timeline).toContain(`| ${at('09:20:00')} | note | Access keys of org accounts are refused by the V1 registry \\| fix in progress | ${SRE} |`);
  });

  it('gives contributing causes: failure classes with counts and where they occurred', () => {
    expect(sectionsOf(renderPostmortem(resolved, 'md')).get('Contributing causes')).toBe([
      '| Failure class | Failed attempts | Seen at, in the evidence (backend → endpoint) |',
      '| --- | ---: | --- |',
      '| auth-denied | 16 | new-backend → registry-v1 |',
      '| registry-timeout | 2 | — |',
      '',
      '| Where (backend → endpoint) | Failed attempts |',
      '| --- | ---: |',
      '| new-backend → registry-v1 | 16 |',
      '| new-backend → - | 2 |',
    ].join('\n'));
  });

  it('keeps notes with their authors, and leaves the action items to people', () => {
    const sections = sectionsOf(renderPostmortem(viewOf([incidentOpened(), noteAdded({ text: 'line one\nline two' }, byOperator(SRE))]), 'md'));
    expect(sections.get('Notes')).toBe(`- ${at('09:20:00')} **${SRE}**: line one\n  line two`);
    expect(sections.get('Action items')).toBe(ACTION_ITEMS_PLACEHOLDER);
    expect(postmortemOf(resolved).actionItems).toEqual([]);
  });

  it('given an open incident with no impact reported, says so rather than inventing figures', () => {
    const sections = sectionsOf(renderPostmortem(viewOf([incidentOpened()]), 'md'));
    expect(sections.get('Impact')).toBe('No impact reported yet.');
    expect(sections.get('Summary')).toContain(`and is still open; detected at ${at('09:05:00')}, not mitigated.`);
    expect(sections.get('Mitigation')).toBe(['No automatic action recorded.', '', '- **Mitigated at:** —', '- **Time to mitigate:** —'].join('\n'));
    expect(sections.get('Milestone corrections')).toBe('None.');
  });

  it('renders the same incident byte for byte the same, in both formats, and json holds the same sections', () => {
    expect(renderPostmortem(viewOf(incidentLog()), 'md')).toBe(renderPostmortem(resolved, 'md'));
    const json = renderPostmortem(resolved, 'json');
    expect(JSON.stringify(json)).toBe(JSON.stringify(renderPostmortem(viewOf(incidentLog()), 'json')));
    expect(Object.keys(json)).toEqual([
      'incidentId', 'title', 'status', 'summary', 'impact', 'detection', 'mitigation', 'resolution', 'timeline', 'contributingCauses', 'notes', 'corrections', 'actionItems',
    ]);
    expect(json).toMatchObject({
      summary: { impactStartedAt: at('09:00:00'), detectedAt: at('09:05:00'), mitigatedAt: at('09:30:00'), resolvedAt: at('09:55:00') },
      impact: { buildsAffected: 15, buildsFellBack: 9, asOf: at('09:55:00'), byAccountType: { org: { accounts: 6 } } },
      detection: { rule: { name: 'push-auth-failures', kind: 'failure-rate' }, measured: 0.45, timeToDetectSeconds: 300 },
      mitigation: { mitigatedAt: at('09:30:00'), by: OTHER_SRE, timeToMitigateSeconds: 1800 },
      resolution: { resolvedAt: at('09:55:00'), timeToResolveSeconds: 3300, actions: [{ kind: 'circuit-closed' }] },
      contributingCauses: { failureClasses: [{ failureClass: 'auth-denied', failedAttempts: 16, seenAt: ['new-backend → registry-v1'] }, { failureClass: 'registry-timeout' }] },
      notes: [{ by: SRE }],
      actionItems: [],
    });
    expect(json.timeline).toHaveLength(resolved.timeline.length);
  });
});
