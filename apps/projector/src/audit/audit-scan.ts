import { BUILD_STREAM_PREFIX, inScope, OrgScope, permits, Principal, PRINCIPAL_STREAM_PREFIX } from '@lib/domain';
import { EventFilter, EventStore, RecordedEvent } from '@lib/event-store';
import { LogPoint, isAtOrAfter, isAtOrBefore } from './log-point';

/**
 * Which events an audit read wants. Every criterion narrows it:
 * - `from`/`to`: inclusive bounds, a global position or a time (metadata.occurredAt);
 * - `org`: build events whose `data.org` is it (route and executor events have no org, so none);
 * - `after`: the resume cursor, exclusive (the globalPosition of the last event received);
 * - `limit`: at most this many events.
 */
export type AuditCriteria = Readonly<{ from?: LogPoint; to?: LogPoint; org?: string; after?: number; limit?: number }>;

/**
 * How much of the log a reader may see, whatever it asks for: build events of the orgs in `scope`;
 * the other streams (routes, executors, incidents…) only with `operations`; the principals' streams
 * (who may do what, token hashes) only with `principals`.
 */
export type AuditReach = Readonly<{ scope: OrgScope; operations: boolean; principals: boolean }>;

/** The whole log: an operator at the machine (the export command), who can read the store anyway. */
export const WHOLE_LOG: AuditReach = { scope: { kind: 'all' }, operations: true, principals: true };

/** What a principal's permissions let it read of the log (nothing but its builds without operations:read). */
export const auditReachOf = (principal: Principal | null, scope: OrgScope): AuditReach => ({
  scope,
  operations: principal !== null && permits(principal, 'operations:read'),
  principals: principal !== null && permits(principal, 'principals:read'),
});

const withinReach = (event: RecordedEvent, reach: AuditReach): boolean =>
  event.streamName.startsWith(BUILD_STREAM_PREFIX) ? inScope(reach.scope, String(event.data.org))
  : event.streamName.startsWith(PRINCIPAL_STREAM_PREFIX) ? reach.principals
  : reach.operations;

/** Only build streams can match: an org filter, or a reader who may see nothing else. */
const buildsOnly = (criteria: AuditCriteria, reach: AuditReach): boolean => criteria.org !== undefined || (!reach.operations && !reach.principals);

/**
 * An audit read in progress. `headPosition` is the head of the log when it began, and no event after
 * it is read, so that the read ends; `pages` yields the matching events of each page scanned, in
 * log order (an empty array for a page where nothing matched).
 */
export type AuditScan = Readonly<{ headPosition: number; pages: AsyncGenerator<readonly RecordedEvent[]> }>;

export const AUDIT_PAGE_SIZE = 1000;

const matches = (event: RecordedEvent, { from, to, org }: AuditCriteria, reach: AuditReach): boolean =>
  withinReach(event, reach) &&
  (!from || isAtOrAfter(event, from)) &&
  (!to || isAtOrBefore(event, to)) &&
  (!org || (event.streamName.startsWith(BUILD_STREAM_PREFIX) && event.data.org === org));

/**
 * Reads the log page by page, never more than one page in memory, so that a consumer that stops
 * (a client that disconnects) stops the reading too. Times do not bound the scan: occurredAt is not
 * ordered in the log (clocks of several writers), so time bounds filter the positions scanned.
 */
async function* scanPages(store: EventStore, criteria: AuditCriteria, reach: AuditReach, headPosition: number, pageSize: number): AsyncGenerator<readonly RecordedEvent[]> {
  const upTo = Math.min(headPosition, criteria.to?.kind === 'position' ? criteria.to.position : Number.MAX_SAFE_INTEGER);
  const filter: EventFilter | undefined = buildsOnly(criteria, reach) ? { streamPrefixes: [BUILD_STREAM_PREFIX] } : undefined;
  let next = Math.max(1, criteria.from?.kind === 'position' ? criteria.from.position : 1, (criteria.after ?? 0) + 1);
  let remaining = criteria.limit ?? Number.MAX_SAFE_INTEGER;
  while (next <= upTo && remaining > 0) {
    const page = await store.readAll({ fromPosition: next, maxCount: pageSize, filter });
    if (page.length === 0) return;
    const inRange = page.filter((event) => event.globalPosition <= upTo);
    const wanted = inRange.filter((event) => matches(event, criteria, reach)).slice(0, remaining);
    remaining -= wanted.length;
    yield wanted;
    if (inRange.length < page.length) return;
    next = page[page.length - 1].globalPosition + 1;
  }
}

/**
 * Events the reader may not see are skipped like events that do not match: `after` and the lines'
 * positions stay positions in the whole log, so resuming works the same for everyone.
 */
export const openAuditScan = async (store: EventStore, criteria: AuditCriteria, reach: AuditReach, pageSize = AUDIT_PAGE_SIZE): Promise<AuditScan> => {
  const headPosition = await store.headPosition();
  return { headPosition, pages: scanPages(store, criteria, reach, headPosition, pageSize) };
};
