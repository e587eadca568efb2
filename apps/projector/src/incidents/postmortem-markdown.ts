import { ACCOUNT_TYPES } from '@lib/domain';
import type { Postmortem, PostmortemEntry } from './postmortem';
import { describeDuration, MILESTONE_LABELS } from './incident-wording';

/** The post-mortem draft in markdown, section by section, in the order of the structured draft. */

export const ACTION_ITEMS_PLACEHOLDER = '_To be written by the incident owner._';

/** Text inside a table cell: pipes escaped, line breaks kept as <br>. */
const cell = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
/** Free text in a list item: continuation lines indented under it. */
const item = (text: string): string => text.replace(/\r?\n/g, '\n  ');
const row = (cells: readonly (string | number)[]): string => `| ${cells.map((c) => cell(String(c))).join(' | ')} |`;
const table = (header: readonly string[], align: readonly ('l' | 'r')[], rows: readonly (readonly (string | number)[])[]): string[] => [
  row(header),
  `| ${align.map((a) => (a === 'r' ? '---:' : '---')).join(' | ')} |`,
  ...rows.map(row),
];
const orDash = (value: string | null): string => value ?? '—';
const entryLine = (entry: PostmortemEntry): string => `- ${entry.at} — ${entry.kind} — ${item(entry.summary)} (${entry.by})`;

const summary = ({ summary: s }: Postmortem): string[] => ['## Summary', '', `- **What:** ${item(s.what)}`, `- **When:** ${s.when}`, `- **Who:** ${s.who}`];

const impact = ({ impact: i }: Postmortem): string[] => {
  if (!i) return ['## Impact', '', 'No impact reported yet.'];
  return [
    '## Impact', '', `_As of ${i.asOf}._`, '',
    ...table(['Figure', 'Count'], ['l', 'r'], [
      ['Attempts ended while open', i.attempts], ['Failed attempts', i.failedAttempts], ['Builds affected', i.buildsAffected],
      ['Builds failed', i.buildsFailed], ['Builds retried', i.buildsRetried], ['Builds fell back', i.buildsFellBack], ['Builds recovered', i.buildsRecovered],
    ]),
    '',
    ...table(['Account type', 'Accounts', 'Builds', 'Failed attempts'], ['l', 'r', 'r', 'r'],
      ACCOUNT_TYPES.map((type) => [type, i.byAccountType[type].accounts, i.byAccountType[type].builds, i.byAccountType[type].failedAttempts])),
    '', 'Most affected accounts:', '',
    ...(i.topAccounts.length === 0
      ? ['None.']
      : table(['Account', 'Type', 'Failed attempts', 'Builds'], ['l', 'l', 'r', 'r'], i.topAccounts.map((a) => [a.org, a.accountType, a.failedAttempts, a.builds]))),
  ];
};

const detection = ({ detection: d }: Postmortem): string[] => [
  '## Detection', '',
  `- **Rule:** \`${d.rule.name}\` (${d.rule.kind}): ${d.rule.title}`,
  `- **Scope:** ${d.scope}`,
  `- **Threshold:** ${d.threshold}`,
  `- **Measured:** ${d.measuredText}`,
  `- **Detected at:** ${orDash(d.detectedAt)}${d.detectedBy ? ` (${d.detectedBy})` : ''}`,
  `- **Time to detect:** ${describeDuration(d.timeToDetectSeconds)}`,
  `- **Evidence:** ${d.evidence} build events`,
];

type Step = Readonly<{ actions: readonly PostmortemEntry[]; at: string | null; by: string | null; how: string | null; seconds: number | null }>;

const step = (title: string, reached: string, verb: string, s: Step): string[] => [
  `## ${title}`, '',
  ...(s.actions.length === 0 ? ['No automatic action recorded.'] : s.actions.map(entryLine)),
  '',
  `- **${reached} at:** ${orDash(s.at)}${s.by ? ` (${s.by})` : ''}`,
  ...(s.how ? [`- **How:** ${item(s.how)}`] : []),
  `- **Time to ${verb}:** ${describeDuration(s.seconds)}`,
];

const timeline = ({ timeline: t }: Postmortem): string[] => [
  '## Timeline', '',
  ...table(['Time (UTC)', 'Kind', 'What', 'By'], ['l', 'l', 'l', 'l'], t.map((e) => [e.at, e.kind, e.summary, e.by])),
];

const causes = ({ contributingCauses: c }: Postmortem): string[] => [
  '## Contributing causes', '',
  ...(c.failureClasses.length === 0
    ? ['No failure classes recorded.']
    : table(['Failure class', 'Failed attempts', 'Seen at, in the evidence (backend → endpoint)'], ['l', 'r', 'l'], c.failureClasses.map((f) => [f.failureClass, f.failedAttempts, f.seenAt.join(', ') || '—']))),
  '',
  ...(c.places.length === 0 ? ['No places recorded.'] : table(['Where (backend → endpoint)', 'Failed attempts'], ['l', 'r'], c.places.map((p) => [p.place, p.failedAttempts]))),
];

const notes = ({ notes: n }: Postmortem): string[] => ['## Notes', '', ...(n.length === 0 ? ['None.'] : n.map((note) => `- ${note.at} **${note.by}**: ${item(note.text)}`))];

const corrections = ({ corrections: c }: Postmortem): string[] => [
  '## Milestone corrections', '',
  ...(c.length === 0
    ? ['None.']
    : c.map((x) => `- ${MILESTONE_LABELS[x.milestone]}: set to ${x.at} by ${x.by} at ${x.recordedAt} (was ${orDash(x.previousAt)}; the detector had ${orDash(x.detectorAt)})${x.note ? `: ${item(x.note)}` : ''}`)),
];

export const markdownOf = (draft: Postmortem): string =>
  [
    [`# Post-mortem draft: ${draft.title}`, '', `Incident \`${draft.incidentId}\` · ${draft.status} · drawn from the event log; times in UTC.`],
    summary(draft),
    impact(draft),
    detection(draft),
    step('Mitigation', 'Mitigated', 'mitigate', { ...draft.mitigation, at: draft.mitigation.mitigatedAt, seconds: draft.mitigation.timeToMitigateSeconds }),
    step('Resolution', 'Resolved', 'resolve', { ...draft.resolution, at: draft.resolution.resolvedAt, seconds: draft.resolution.timeToResolveSeconds }),
    timeline(draft),
    causes(draft),
    notes(draft),
    corrections(draft),
    ['## Action items', '', ACTION_ITEMS_PLACEHOLDER],
  ].map((section) => section.join('\n')).join('\n\n') + '\n';
