import BetterSqlite3 from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { DocumentRows, SqliteDocumentWriter } from './sqlite-document-writer';
import type { WriterReply, WriterRequest, WriterSetup } from './sqlite-writer-thread';

/**
 * The writer thread of a catching-up SQLite read store (sqlite-writer-thread.ts): its own
 * connection to the file, committing each batch it is sent, in order, and replying to each.
 */
const setup = workerData as WriterSetup;
const db = new BetterSqlite3(setup.path);
for (const pragma of setup.pragmas) db.pragma(pragma);
const writer = new SqliteDocumentWriter(db);

const errorOf = (error: unknown): WriterReply['error'] => {
  const { name, message, code, moved } = error as { name?: string; message?: string; code?: string; moved?: unknown };
  return { name: name ?? 'Error', message: message ?? String(error), code, moved: moved as NonNullable<WriterReply['error']>['moved'] };
};

parentPort!.on('message', (request: WriterRequest) => {
  if (request.kind === 'close') {
    db.close();
    parentPort!.postMessage({ id: request.id } satisfies WriterReply);
    return;
  }
  try {
    writer.commit(request.batches as DocumentRows[], request.at);
    parentPort!.postMessage({ id: request.id } satisfies WriterReply);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: errorOf(error) } satisfies WriterReply);
  }
});
