import { AccountType, BUILD_STREAM_PREFIX, BuildEvent, FailureClass } from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';
import { BUCKET_SIZES, BucketSize, bucketStart } from '../projections/build-stats.projection';
import { Projection } from '../projections/projection';

/**
 * Failed attempts of one time bucket, by failure class × backend × registry endpoint × account type,
 * with the attempts that ended (pushed or failed) per backend × endpoint × account type, so that a
 * failure rate can be given for any combination; and failed attempts per account, for the most
 * affected accounts. Keys are the parts joined by `|`; a place an event did not name is `-`.
 */
export type FailureBreakdown = {
  size: BucketSize;
  /** Start of the bucket (UTC, ISO-8601). */
  start: string;
  /** "failureClass|backend|registryEndpoint|accountType" → failed attempts. */
  failed: Record<string, number>;
  /** "backend|registryEndpoint|accountType" → attempts that ended (pushed or failed). */
  ended: Record<string, number>;
  /** "accountType|org" → failed attempts. */
  accounts: Record<string, number>;
};

export const NO_PLACE = '-';
const SEPARATOR = '|';

export type Place = Readonly<{ backend: string; registryEndpoint: string; accountType: AccountType }>;
export type Combination = Place & Readonly<{ failureClass: FailureClass }>;
export type Account = Readonly<{ accountType: AccountType; org: string }>;

export const placeKey = (place: Place): string => [place.backend, place.registryEndpoint, place.accountType].join(SEPARATOR);
export const combinationKey = (combination: Combination): string => [combination.failureClass, placeKey(combination)].join(SEPARATOR);
export const accountKey = (account: Account): string => [account.accountType, account.org].join(SEPARATOR);

export const parseCombination = (key: string): Combination => {
  const [failureClass, backend, registryEndpoint, accountType] = key.split(SEPARATOR);
  return { failureClass: failureClass as FailureClass, backend, registryEndpoint, accountType: accountType as AccountType };
};
export const parsePlace = (key: string): Place => {
  const [backend, registryEndpoint, accountType] = key.split(SEPARATOR);
  return { backend, registryEndpoint, accountType: accountType as AccountType };
};
export const parseAccount = (key: string): Account => {
  const at = key.indexOf(SEPARATOR);
  return { accountType: key.slice(0, at) as AccountType, org: key.slice(at + 1) };
};

export const breakdownId = (size: BucketSize, start: string): string => `${size}${SEPARATOR}${start}`;
const parseId = (id: string): Pick<FailureBreakdown, 'size' | 'start'> => {
  const [size, start] = id.split(SEPARATOR);
  return { size: size as BucketSize, start };
};

type AttemptEnd = Extract<BuildEvent, { type: 'BuildPushed' | 'BuildFailed' | 'BuildTimedOut' }>;
const COUNTED: readonly AttemptEnd['type'][] = ['BuildPushed', 'BuildFailed', 'BuildTimedOut'];

const failureClassOf = (event: AttemptEnd): FailureClass | null =>
  event.type === 'BuildFailed' ? event.data.failureClass : event.type === 'BuildTimedOut' ? 'build-timeout' : null;

const increment = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Counts one attempt's end into a breakdown the caller owns. */
const count = (breakdown: FailureBreakdown, event: AttemptEnd): void => {
  const place: Place = { backend: event.data.backend ?? NO_PLACE, registryEndpoint: event.data.registryEndpoint ?? NO_PLACE, accountType: event.data.accountType };
  increment(breakdown.ended, placeKey(place));
  const failureClass = failureClassOf(event);
  if (failureClass === null) return;
  increment(breakdown.failed, combinationKey({ ...place, failureClass }));
  increment(breakdown.accounts, accountKey({ accountType: event.data.accountType, org: event.data.org }));
};

/** Folds events into one bucket: the document is copied once per batch, and the copy is counted into. */
export const evolveFailureBreakdownMany = (doc: FailureBreakdown | null, events: readonly RecordedEvent[], id: string): FailureBreakdown => {
  const breakdown: FailureBreakdown = doc
    ? { ...doc, failed: { ...doc.failed }, ended: { ...doc.ended }, accounts: { ...doc.accounts } }
    : { ...parseId(id), failed: {}, ended: {}, accounts: {} };
  for (const event of events) if ((COUNTED as readonly string[]).includes(event.type)) count(breakdown, event as unknown as AttemptEnd);
  return breakdown;
};

export const evolveFailureBreakdown = (doc: FailureBreakdown | null, event: RecordedEvent, id: string): FailureBreakdown =>
  evolveFailureBreakdownMany(doc, [event], id);

/** One document per time bucket (minute, hour, day, by the events' own times). */
export const failureBreakdownProjection: Projection<FailureBreakdown> = {
  name: 'failure-breakdown',
  version: 1,
  filter: { streamPrefixes: [BUILD_STREAM_PREFIX], eventTypes: COUNTED },
  storage: {
    table: 'failure_breakdown',
    columns: { size: 'TEXT', start: 'TEXT' },
    indexes: [['size', 'start']],
    toColumns: (doc) => ({ size: doc.size, start: doc.start }),
  },
  documentIds: (event) =>
    (COUNTED as readonly string[]).includes(event.type) && typeof event.data.org === 'string'
      ? BUCKET_SIZES.map((size) => breakdownId(size, bucketStart(size, event.metadata.occurredAt)))
      : [],
  evolve: evolveFailureBreakdown,
  evolveMany: evolveFailureBreakdownMany,
};
