import { ACCOUNT_TYPES, AccountType, FailureClass, IncidentImpact, IncidentMilestone, INCIDENT_MILESTONES } from '@lib/domain';
import { IncidentStatus, IncidentView, TimelineEntry, TimelineKind } from './incident-view';
import { describeMeasured, describePlace, describeScope, describeThreshold } from './incident-wording';
import { markdownOf } from './postmortem-markdown';

/**
 * A post-mortem draft drawn from one incident's read model, by a pure function: the same document
 * always gives the same draft, byte for byte (no generation time, UTC ISO times, fixed wording).
 * What only people can write (action items) is left empty for them.
 */

export const POSTMORTEM_FORMATS = ['md', 'json'] as const;
export type PostmortemFormat = (typeof POSTMORTEM_FORMATS)[number];

export type PostmortemEntry = Readonly<{ at: string; kind: TimelineKind; summary: string; by: string }>;
export type AccountTypeImpact = IncidentImpact['byAccountType'][AccountType];

export type Postmortem = Readonly<{
  incidentId: string;
  title: string;
  status: IncidentStatus;
  summary: Readonly<{
    what: string;
    when: string;
    who: string;
    impactStartedAt: string | null;
    detectedAt: string | null;
    mitigatedAt: string | null;
    resolvedAt: string | null;
  }>;
  /** Null until the detector has reported any impact. */
  impact: (Omit<IncidentImpact, 'failureClasses' | 'places'> & { asOf: string }) | null;
  detection: Readonly<{
    rule: Readonly<{ name: string; kind: string; title: string }>;
    scope: string;
    threshold: string;
    measured: number;
    measuredText: string;
    detectedAt: string | null;
    detectedBy: string | null;
    timeToDetectSeconds: number | null;
    evidence: number;
  }>;
  mitigation: Readonly<{ actions: readonly PostmortemEntry[]; mitigatedAt: string | null; by: string | null; how: string | null; timeToMitigateSeconds: number | null }>;
  resolution: Readonly<{ actions: readonly PostmortemEntry[]; resolvedAt: string | null; by: string | null; how: string | null; timeToResolveSeconds: number | null }>;
  timeline: readonly PostmortemEntry[];
  contributingCauses: Readonly<{
    failureClasses: readonly { failureClass: FailureClass; failedAttempts: number; seenAt: readonly string[] }[];
    places: readonly { place: string; backend: string | null; registryEndpoint: string | null; failedAttempts: number }[];
  }>;
  notes: readonly { at: string; by: string; text: string }[];
  /** Milestones an operator set or corrected, with what the detector had. */
  corrections: readonly { milestone: IncidentMilestone; at: string; previousAt: string | null; detectorAt: string | null; by: string; note: string | null; recordedAt: string }[];
  /** Always empty: for the incident owner to write. */
  actionItems: readonly string[];
}>;

const MITIGATING: readonly TimelineKind[] = ['fallback', 'circuit-opened', 'circuit-half-opened', 'route-drained'];
const RESOLVING: readonly TimelineKind[] = ['circuit-closed', 'route-undrained'];

const entryOf = (entry: TimelineEntry): PostmortemEntry => ({ at: entry.at, kind: entry.kind, summary: entry.summary, by: entry.actor });

const byCountThenName = <T>(count: (item: T) => number, name: (item: T) => string) => (a: T, b: T): number =>
  count(b) - count(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);

const describeAccounts = (impact: IncidentImpact | null): string => {
  if (!impact) return 'No impact reported yet.';
  const parts = ACCOUNT_TYPES.map((type) => {
    const { accounts, builds, failedAttempts } = impact.byAccountType[type];
    return `${accounts} ${type} account${accounts === 1 ? '' : 's'} (${builds} builds, ${failedAttempts} failed attempts)`;
  });
  return `${parts.join(' and ')}; ${impact.failedAttempts} of ${impact.attempts} attempts failed.`;
};

const summaryOf = (incident: IncidentView): Postmortem['summary'] => {
  const at = (milestone: IncidentMilestone) => incident.milestones[milestone]?.at ?? null;
  const impact = incident.impact;
  const scope = `${incident.title} (${describeScope(incident.dimension, incident.value)}).`;
  const what = impact
    ? `${scope} ${impact.buildsAffected} builds affected: ${impact.buildsFailed} failed, ${impact.buildsRetried} retried, ` +
      `${impact.buildsFellBack} fell back, ${impact.buildsRecovered} recovered.`
    : scope;
  const end = at('resolved') ? `until ${at('resolved')} (resolved)` : 'and is still open';
  const when = `Impact started at ${at('impact-started') ?? 'an unknown time'} ${end}; detected at ${at('detected') ?? '—'}, ` +
    `${at('mitigated') ? `mitigated at ${at('mitigated')}` : 'not mitigated'}.`;
  return {
    what, when, who: describeAccounts(impact),
    impactStartedAt: at('impact-started'), detectedAt: at('detected'), mitigatedAt: at('mitigated'), resolvedAt: at('resolved'),
  };
};

const impactOf = (incident: IncidentView): Postmortem['impact'] => {
  if (!incident.impact || incident.impactAsOf === null) return null;
  const { failureClasses: _classes, places: _places, ...figures } = incident.impact;
  return { ...figures, asOf: incident.impactAsOf };
};

const detectionOf = (incident: IncidentView): Postmortem['detection'] => {
  const { rule, detection } = incident;
  const detected = incident.milestones.detected;
  return {
    rule: { name: rule.name, kind: rule.kind, title: rule.title },
    scope: describeScope(incident.dimension, incident.value),
    threshold: describeThreshold(rule),
    measured: detection.measured,
    measuredText: describeMeasured(rule, detection.measured, detection.matching, detection.attempts),
    detectedAt: detected?.at ?? null,
    detectedBy: detected?.by ?? null,
    timeToDetectSeconds: incident.durations.timeToDetectSeconds,
    evidence: incident.evidence.length,
  };
};

const stepOf = (incident: IncidentView, milestone: 'mitigated' | 'resolved', kinds: readonly TimelineKind[]) => {
  const reached = incident.milestones[milestone];
  return { actions: incident.timeline.filter((entry) => kinds.includes(entry.kind)).map(entryOf), by: reached?.by ?? null, how: reached?.reason ?? null };
};

const causesOf = (incident: IncidentView): Postmortem['contributingCauses'] => {
  const classes = Object.entries(incident.impact?.failureClasses ?? {}) as [FailureClass, number][];
  const seenAt = (failureClass: FailureClass): string[] =>
    [...new Set(incident.evidence.filter((e) => e.failureClass === failureClass).map((e) => describePlace(e.backend, e.registryEndpoint)))].sort();
  return {
    failureClasses: classes
      .map(([failureClass, failedAttempts]) => ({ failureClass, failedAttempts, seenAt: seenAt(failureClass) }))
      .sort(byCountThenName((c) => c.failedAttempts, (c) => c.failureClass)),
    places: (incident.impact?.places ?? [])
      .map((p) => ({ place: describePlace(p.backend, p.registryEndpoint), backend: p.backend, registryEndpoint: p.registryEndpoint, failedAttempts: p.failedAttempts }))
      .sort(byCountThenName((p) => p.failedAttempts, (p) => p.place)),
  };
};

const correctionsOf = (incident: IncidentView): Postmortem['corrections'] =>
  INCIDENT_MILESTONES.flatMap((milestone) => {
    const reached = incident.milestones[milestone];
    return (reached?.corrections ?? []).map((c) => ({
      milestone, at: c.at, previousAt: c.previousAt, detectorAt: reached?.detector?.at ?? null, by: c.by, note: c.note, recordedAt: c.recordedAt,
    }));
  });

/** The draft as a structured object: the `json` format, and what the markdown is written from. */
export const postmortemOf = (incident: IncidentView): Postmortem => ({
  incidentId: incident.id,
  title: incident.title,
  status: incident.status,
  summary: summaryOf(incident),
  impact: impactOf(incident),
  detection: detectionOf(incident),
  mitigation: { ...stepOf(incident, 'mitigated', MITIGATING), mitigatedAt: incident.milestones.mitigated?.at ?? null, timeToMitigateSeconds: incident.durations.timeToMitigateSeconds },
  resolution: { ...stepOf(incident, 'resolved', RESOLVING), resolvedAt: incident.milestones.resolved?.at ?? null, timeToResolveSeconds: incident.durations.timeToResolveSeconds },
  timeline: incident.timeline.map(entryOf),
  contributingCauses: causesOf(incident),
  notes: incident.notes.map(({ at, by, text }) => ({ at, by, text })),
  corrections: correctionsOf(incident),
  actionItems: [],
});

/** The draft in markdown (`md`) or as a structured object (`json`). Pure: the same incident renders the same. */
export function renderPostmortem(incident: IncidentView, format: 'md'): string;
export function renderPostmortem(incident: IncidentView, format: 'json'): Postmortem;
export function renderPostmortem(incident: IncidentView, format: PostmortemFormat): string | Postmortem;
export function renderPostmortem(incident: IncidentView, format: PostmortemFormat): string | Postmortem {
  const draft = postmortemOf(incident);
  return format === 'md' ? markdownOf(draft) : draft;
}
