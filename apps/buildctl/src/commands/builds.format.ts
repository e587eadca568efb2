import type { BuildStatusView } from '../../../projector/src/projections/build-status.projection';
import type { BuildAuditHistory } from '../../../projector/src/audit/build-history';
import { Column, renderFields, renderTable, utc } from '../format/table';

export const BUILD_COLUMNS: readonly Column<BuildStatusView>[] = [
  { header: 'BUILD', cell: (build) => build.buildId, max: 40 },
  { header: 'ORG/REPO', cell: (build) => `${build.org}/${build.repo}`, max: 32 },
  { header: 'STATUS', cell: (build) => build.status },
  { header: 'ATTEMPT', cell: (build) => build.attempt, align: 'right' },
  { header: 'BACKEND', cell: (build) => build.backend, max: 20 },
  { header: 'FAILURE', cell: (build) => build.failure?.failureClass, max: 22 },
  { header: 'QUEUED (UTC)', cell: (build) => utc(build.timestamps.queuedAt) },
  { header: 'UPDATED (UTC)', cell: (build) => utc(build.timestamps.updatedAt) },
];

const PHASES: readonly [string, keyof BuildStatusView['timestamps']][] = [
  ['queued', 'queuedAt'], ['started', 'startedAt'], ['image built', 'imageBuiltAt'], ['push started', 'pushStartedAt'],
  ['pushed', 'pushedAt'], ['failed', 'failedAt'], ['retry scheduled', 'retryScheduledAt'], ['canceled', 'canceledAt'],
  ['timed out', 'timedOutAt'], ['expired', 'expiredAt'],
];

/** The status view as `key: value` lines: identity, outcome, then the times of the phases it reached. */
export const renderBuild = (build: BuildStatusView): string =>
  renderFields([
    ['build', build.buildId],
    ['org/repo', `${build.org}/${build.repo}`],
    ['account type', build.accountType],
    ['status', build.status],
    ['source', `${build.source.git.url}${build.source.git.ref ? ` @ ${build.source.git.ref}` : ''}`],
    ['dockerfile', build.dockerfile],
    ['target', `${build.targetRepository}:${build.tag}`],
    ['priority', build.priority],
    ['attempt', `${build.attempt} (${build.retries} retries)`],
    ['backend', build.backend ? `${build.backend}${build.node ? ` on ${build.node}` : ''}` : null],
    ['registry endpoint', build.registryEndpoint],
    ['image', build.repository && build.digest ? `${build.registry}/${build.repository}@${build.digest}` : build.imageId],
    ['failure', build.failure ? `${build.failure.failureClass} in ${build.failure.phase}: ${build.failure.message}` : null],
    ...(build.retriesExhausted ? [['retries exhausted', build.retriesExhausted] as const] : []),
    ...(build.canceledBy ? [['canceled by', build.canceledBy] as const] : []),
    ...build.fallbacks.map((fallback) => ['fallback', `${utc(fallback.at)} ${fallback.scope} ${fallback.from} → ${fallback.to}: ${fallback.reason}`] as const),
    ...PHASES.filter(([, key]) => build.timestamps[key]).map(([label, key]) => [label, utc(build.timestamps[key])] as const),
    ['events', `${build.eventCount} (last at position ${build.lastPosition})`],
  ]);

const SAME_FOR_EVERY_EVENT = new Set(['buildId', 'org', 'repo']);

/** An event's scalar data as `key=value`, leaving out what every build event repeats. */
export const summarizeData = (data: Record<string, unknown>): string =>
  Object.entries(data)
    .filter(([key, value]) => !SAME_FOR_EVERY_EVENT.has(key) && value !== null && value !== undefined && typeof value !== 'object')
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');

export const renderHistory = (history: BuildAuditHistory): string =>
  renderTable(
    [
      { header: 'POSITION', cell: (entry) => entry.globalPosition, align: 'right' },
      { header: 'TIME (UTC)', cell: (entry) => utc(entry.occurredAt) },
      { header: 'EVENT', cell: (entry) => entry.type, max: 28 },
      { header: 'ACTOR', cell: (entry) => entry.actor, max: 28 },
      { header: 'DETAILS', cell: (entry) => summarizeData(entry.data), max: 70 },
    ],
    history.events,
    '(no events)',
  );
