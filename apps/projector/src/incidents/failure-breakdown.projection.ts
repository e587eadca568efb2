import { AccountType, BUILD_STREAM_PREFIX, BuildEvent, FailureClass } from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';
import { BoundedMemo, BUCKET_SIZES, BucketSize, BucketStarts, bucketStartsOf, EventMemo } from '../projections/build-stats.projection';
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

/** A key's part as Array.join writes it (null and undefined as nothing): keys are built for every event, without an array. */
const part = (value: string | null | undefined): string => value ?? '';
export const placeKey = (place: Place): string => `${part(place.backend)}${SEPARATOR}${part(place.registryEndpoint)}${SEPARATOR}${part(place.accountType)}`;
const withFailureClass = (failureClass: FailureClass, placeKeyed: string): string => `${part(failureClass)}${SEPARATOR}${placeKeyed}`;
export const combinationKey = (combination: Combination): string => withFailureClass(combination.failureClass, placeKey(combination));
export const accountKey = (account: Account): string => `${part(account.accountType)}${SEPARATOR}${part(account.org)}`;

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

/**
 * The ids of the buckets of one minute (minute, hour, day), built once per minute rather than per
 * event; shared and frozen. An hour of minutes: a rebuild moves through time, older ones rarely return.
 */
const idsByMinute = new BoundedMemo<string, readonly string[]>(64);
const breakdownIdsOf = (starts: BucketStarts): readonly string[] =>
  idsByMinute.get(starts.minute, () => Object.freeze(BUCKET_SIZES.map((size) => breakdownId(size, starts[size]))));

type AttemptEnd = Extract<BuildEvent, { type: 'BuildPushed' | 'BuildFailed' | 'BuildTimedOut' }>;
const COUNTED: readonly AttemptEnd['type'][] = ['BuildPushed', 'BuildFailed', 'BuildTimedOut'];
const IS_COUNTED: ReadonlySet<string> = new Set(COUNTED);

const failureClassOf = (event: AttemptEnd): FailureClass | null =>
  event.type === 'BuildFailed' ? event.data.failureClass : event.type === 'BuildTimedOut' ? 'build-timeout' : null;

const increment = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** The keys one attempt's end counts under: its place, and for a failure its combination and account. */
type Tally = { place: string; combination: string | null; account: string | null };

const tallyOf = (event: AttemptEnd): Tally => {
  const place = placeKey({ backend: event.data.backend ?? NO_PLACE, registryEndpoint: event.data.registryEndpoint ?? NO_PLACE, accountType: event.data.accountType });
  const failureClass = failureClassOf(event);
  if (failureClass === null) return { place, combination: null, account: null };
  // The combination's key is the place's with the class in front (combinationKey), so it is not built twice.
  return { place, combination: withFailureClass(failureClass, place), account: accountKey({ accountType: event.data.accountType, org: event.data.org }) };
};

/**
 * Tallies by event object: an event counts in three buckets, and the same key strings for all three
 * also make counting under them cheaper (a string used as a key once is then known).
 */
const tallies = new EventMemo((event): Tally => tallyOf(event as unknown as AttemptEnd));

/** Counts one attempt's end into a breakdown the caller owns. */
const count = (breakdown: FailureBreakdown, tally: Tally): void => {
  increment(breakdown.ended, tally.place);
  if (tally.combination !== null) increment(breakdown.failed, tally.combination);
  if (tally.account !== null) increment(breakdown.accounts, tally.account);
};

/** Folds events into one bucket: the document is copied once per batch, and the copy is counted into. */
export const evolveFailureBreakdownMany = (doc: FailureBreakdown | null, events: readonly RecordedEvent[], id: string): FailureBreakdown => {
  const breakdown: FailureBreakdown = doc
    ? { ...doc, failed: { ...doc.failed }, ended: { ...doc.ended }, accounts: { ...doc.accounts } }
    : { ...parseId(id), failed: {}, ended: {}, accounts: {} };
  for (const event of events) if (IS_COUNTED.has(event.type)) count(breakdown, tallies.get(event));
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
    IS_COUNTED.has(event.type) && typeof event.data.org === 'string' ? breakdownIdsOf(bucketStartsOf(event.metadata.occurredAt)) : [],
  evolve: evolveFailureBreakdown,
  evolveMany: evolveFailureBreakdownMany,
};
