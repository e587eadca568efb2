import BetterSqlite3 from 'better-sqlite3';
import { isAscii } from 'node:buffer';
import { MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { EventFilter } from '../event-store.port';
import { filterSql, pageJsonSql, reachedBy } from './sqlite-event-page';

/**
 * A worker thread that reads a subscription's pages ahead of it (see sqlite-read-ahead.ts) through
 * its own read-only connection: the pages after `after` up to `upTo`, as the subscription would
 * read them itself, at most `pagesAhead` of them posted and not yet taken. Each message from the
 * subscription says it has taken a page.
 */
export type ReadAheadRequest = Readonly<{
  path: string;
  after: number;
  /** The head when the read-ahead started: every row up to it is committed. */
  upTo: number;
  batchSize: number;
  filter?: EventFilter;
  pagesAhead: number;
}>;

/** A page for the subscription: its events as JSON text in UTF-8 (see pageJsonSql), and how far it scanned. */
export type ReadAheadPage = Readonly<{ json: Uint8Array; ascii: boolean; reached: number }>;

type PageJsonRow = [count: number, lastPosition: number | null, json: Buffer];

const readPages = async (request: ReadAheadRequest, port: MessagePort): Promise<void> => {
  const db = new BetterSqlite3(request.path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  const { where, params } = filterSql(request.filter);
  const page = db.prepare(pageJsonSql(where)).raw(true);
  let inFlight = 0;
  let wake = () => {};
  const onTaken = () => {
    inFlight -= 1;
    wake();
  };
  port.on('message', onTaken);
  for (let after = request.after; after < request.upTo; ) {
    while (inFlight >= request.pagesAhead) await new Promise<void>((resolve) => (wake = resolve));
    const [count, lastPosition, json] = page.get(after, request.upTo, ...params, request.batchSize) as PageJsonRow;
    after = reachedBy(count, lastPosition, request.batchSize, request.upTo);
    inFlight += 1;
    // Moved, not copied, when the buffer is its own memory (better-sqlite3 gives each value its own).
    const movable = json.byteOffset === 0 && json.byteLength === json.buffer.byteLength;
    port.postMessage({ json, ascii: isAscii(json), reached: after } satisfies ReadAheadPage, movable ? [json.buffer as ArrayBuffer] : []);
  }
  db.close();
  port.off('message', onTaken); // with no listener left the port lets the thread end
};

/**
 * better-sqlite3's SqliteError is no Error to the structured clone, which would pass on its code
 * alone: the subscription gets a plain Error with the same message, code and stack.
 */
const cloneable = (error: unknown): unknown =>
  error instanceof Error
    ? Object.assign(new Error(error.message), { name: error.name, code: (error as { code?: unknown }).code, stack: error.stack })
    : error;

if (parentPort) {
  readPages(workerData as ReadAheadRequest, parentPort).catch((error: unknown) =>
    // Rethrown outside the promise, the failure ends the thread and reaches the subscription
    // through the worker's 'error' event, whatever the unhandled-rejection mode.
    process.nextTick(() => {
      throw cloneable(error);
    }),
  );
}
