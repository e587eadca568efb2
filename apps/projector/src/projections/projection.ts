import { EventFilter, RecordedEvent } from '@lib/event-store';

export type ColumnType = 'TEXT' | 'INTEGER' | 'REAL';
export type ColumnValue = string | number | null;

/** How a projection's documents are stored: a JSON document plus the columns that queries filter and sort on. */
export type DocumentTable<Doc> = Readonly<{
  table: string;
  columns: Readonly<Record<string, ColumnType>>;
  /** Each entry is one index: its columns in order. */
  indexes: readonly (readonly string[])[];
  toColumns: (doc: Doc) => Record<string, ColumnValue>;
}>;

/**
 * A projection is pure (STYLE.md rule 16): `evolve` folds one event into the document it concerns,
 * using only what the event carries (never the wall clock), so replaying the log gives the same
 * documents byte for byte. The runner does all the I/O.
 */
export type Projection<Doc> = Readonly<{
  name: string;
  /** Bump when evolve or the table changes: a stored read model of another version is rebuilt from 0. */
  version: number;
  filter: Readonly<Required<EventFilter>>;
  storage: DocumentTable<Doc>;
  /** The ids of the documents an event updates (none, one, or several: a statistic per time bucket, say). */
  documentIds: (event: RecordedEvent) => readonly string[];
  /** Folds the event into the document `id` (null: not there yet); returns the new document, or null to delete it. */
  evolve: (doc: Doc | null, event: RecordedEvent, id: string) => Doc | null;
  /**
   * Optional, for projections that fold many events into few documents (statistics): folds the
   * events, in log order, into the document `id` at once. It must give what `events.reduce(evolve)`
   * gives; it lets a projection copy the document once per batch instead of once per event. Pure
   * like evolve: it never changes `doc` or the events.
   */
  evolveMany?: (doc: Doc | null, events: readonly RecordedEvent[], id: string) => Doc | null;
}>;

/** Folds events into one document with the projection's evolveMany, or event by event with evolve. */
export const evolveAll = <Doc>(projection: Projection<Doc>, doc: Doc | null, events: readonly RecordedEvent[], id: string): Doc | null =>
  projection.evolveMany ? projection.evolveMany(doc, events, id) : events.reduce<Doc | null>((current, event) => projection.evolve(current, event, id), doc);

export type AnyProjection = Projection<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Each projection's event types as a set: `handles` runs for every event and every projection. */
const eventTypeSets = new WeakMap<AnyProjection['filter'], ReadonlySet<string>>();
const eventTypesOf = (filter: AnyProjection['filter']): ReadonlySet<string> => {
  let types = eventTypeSets.get(filter);
  if (!types) {
    types = new Set(filter.eventTypes);
    eventTypeSets.set(filter, types);
  }
  return types;
};

export const handles = (projection: AnyProjection, event: RecordedEvent): boolean =>
  eventTypesOf(projection.filter).has(event.type) &&
  (projection.filter.streamPrefixes.length === 0 || projection.filter.streamPrefixes.some((prefix) => event.streamName.startsWith(prefix)));
