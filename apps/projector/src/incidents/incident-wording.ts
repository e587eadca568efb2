import { IncidentDimension, IncidentMilestone, IncidentRule } from '@lib/domain';

/**
 * How incidents are put into words, in one place: the timeline's summaries (written into the read
 * model) and the post-mortem draft use the same phrases. Pure and locale-free (no toLocaleString),
 * so the same incident always reads the same.
 */

export const MILESTONE_LABELS: Readonly<Record<IncidentMilestone, string>> = {
  'impact-started': 'Impact started',
  detected: 'Detected',
  mitigated: 'Mitigated',
  resolved: 'Resolved',
};

export const percent = (rate: number): string => `${(rate * 100).toFixed(1)}%`;

const tenths = (value: number): string => String(Math.round(value * 10) / 10);

const GROUPS: Readonly<Record<IncidentDimension, string>> = {
  all: 'over all builds',
  backend: 'per backend',
  registryEndpoint: 'per registry endpoint',
  accountType: 'per account type',
  org: 'per account',
};

/** What the rule watches for, with its threshold. */
export const describeThreshold = (rule: IncidentRule): string =>
  rule.kind === 'failure-rate'
    ? `${percent(rule.thresholdRate)} or more of the attempts ending in ${rule.failureClasses.join(', ')} within ${rule.windowSeconds} s, ` +
      `${GROUPS[rule.groupBy]}, over at least ${rule.minBuilds} attempts; resolved after ${rule.quietSeconds} s under it`
    : `p90 queue wait of ${rule.thresholdSeconds} s or more within ${rule.windowSeconds} s and at least ${rule.riseFactor}× the p90 of the ` +
      `${rule.baselineSeconds} s before, ${GROUPS[rule.groupBy]}, over at least ${rule.minBuilds} starts; resolved after ${rule.quietSeconds} s under it`;

/** The figure that crossed the threshold when the incident opened. */
export const describeMeasured = (rule: IncidentRule, measured: number, matching: number, attempts: number): string =>
  rule.kind === 'failure-rate'
    ? `failure rate ${percent(measured)} (${matching} of ${attempts} attempts)`
    : `p90 queue wait ${tenths(measured)} s (${matching} of ${attempts} starts waited ${rule.thresholdSeconds} s or more)`;

/** Which builds the incident is about. */
export const describeScope = (dimension: IncidentDimension, value: string): string => {
  switch (dimension) {
    case 'all':
      return 'all builds';
    case 'backend':
      return `builds on backend ${value}`;
    case 'registryEndpoint':
      return `pushes through registry endpoint ${value}`;
    case 'accountType':
      return `builds of ${value} accounts`;
    case 'org':
      return `builds of account ${value}`;
    default: {
      const unknown: never = dimension;
      return `builds with ${String(unknown)} ${value}`;
    }
  }
};

/** A duration as people read it, with the exact seconds: "1h 5m 0s (3900 s)"; "—" when there is none. */
export const describeDuration = (seconds: number | null): string => {
  if (seconds === null) return '—';
  const whole = Math.floor(Math.abs(seconds));
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  const parts = h > 0 ? `${h}h ${m}m ${s}s` : m > 0 ? `${m}m ${s}s` : `${s}s`;
  return `${seconds < 0 ? '-' : ''}${parts} (${seconds} s)`;
};

/** "backend → endpoint", with "-" for a place the event did not name. */
export const describePlace = (backend: string | null, registryEndpoint: string | null): string => `${backend ?? '-'} → ${registryEndpoint ?? '-'}`;
