'use strict';
/**
 * A projector process for test/projector-crash.int-spec.ts: follows the event-store file into the
 * read store (a SQLite file, or a postgres:// URL) with the build-status projection, then prints
 * `CAUGHT_UP <position>` and exits 0 once it has reached the head of the log as it was at start.
 *
 *   node test/support/projector-child.js <events.sqlite> <read-models.sqlite | postgres://…?schema=…>
 *
 * Optional crash points (env), each a global position; the process kills itself with SIGKILL:
 *   KILL_AFTER_POSITION  after the read-model transaction whose checkpoint is >= it committed,
 *                        before the next event is applied (the runner's afterCommit);
 *   KILL_AT_EVENT        while folding a batch, at the first event at or past it (nothing committed);
 *   KILL_IN_COMMIT_AT    inside the read-model transaction, as the first document whose last
 *                        position is at or past it is written (earlier documents of the batch
 *                        already written, nothing committed).
 *   BATCH_SIZE           events per batch (default 7).
 *
 * Plain CommonJS from the compiled dist/ (jest's globalSetup runs `npm run build`), so that it starts
 * like the real projector does.
 */
const { writeSync } = require('node:fs');
// The SQLite adapter's own module, not the index: the index also loads the EventStoreDB client.
const { SqliteEventStore } = require('../../dist/libs/event-store/src/sqlite/sqlite-event-store');
const { ProjectionRunner } = require('../../dist/apps/projector/src/runner/projection-runner');
const { openReadStore } = require('../../dist/apps/projector/src/read-store/read-store.factory');
const { buildStatusProjection } = require('../../dist/apps/projector/src/projections/build-status.projection');

const [eventsPath, readStoreLocation] = process.argv.slice(2);
const positionFromEnv = (name) => (process.env[name] ? Number(process.env[name]) : Infinity);
const killAfterPosition = positionFromEnv('KILL_AFTER_POSITION');
const killAtEvent = positionFromEnv('KILL_AT_EVENT');
const killInCommitAt = positionFromEnv('KILL_IN_COMMIT_AT');
const batchSize = Number(process.env.BATCH_SIZE ?? 7);

/** Synchronous write, so the line is out before the process is gone. */
const say = (line) => writeSync(1, `${line}\n`);

const die = (why) => {
  say(`KILLING ${why}`);
  process.kill(process.pid, 'SIGKILL');
};

let writtenInBatch = 0;
const { storage } = buildStatusProjection;
const projection = {
  ...buildStatusProjection,
  evolve: (doc, event) => {
    if (event.globalPosition >= killAtEvent) die(`in-evolve at event ${event.globalPosition}`);
    return buildStatusProjection.evolve(doc, event);
  },
  // The runner folds a document's events of a batch at once; the crash point is checked for each of them.
  evolveMany: (doc, events, id) => {
    for (const event of events) if (event.globalPosition >= killAtEvent) die(`in-evolve at event ${event.globalPosition}`);
    return buildStatusProjection.evolveMany(doc, events, id);
  },
  storage: {
    ...storage,
    // Called by the read store inside its transaction, once per document, just before that document's upsert.
    toColumns: (doc) => {
      if (doc.lastPosition >= killInCommitAt) die(`in-commit at document ${doc.buildId} (last position ${doc.lastPosition}) after ${writtenInBatch} written`);
      writtenInBatch += 1;
      return storage.toColumns(doc);
    },
  },
};

const main = async () => {
  if (!eventsPath || !readStoreLocation) throw new Error('usage: projector-child.js <events.sqlite> <read-models.sqlite | postgres://…>');
  const store = new SqliteEventStore({ path: eventsPath, pollIntervalMs: 5 });
  const readStore = await openReadStore(readStoreLocation);
  const runner = new ProjectionRunner(store, readStore, [projection], {
    batchSize,
    afterCommit: (position) => {
      writtenInBatch = 0;
      if (position >= killAfterPosition) die(`after-commit at checkpoint ${position}`);
    },
  });
  await runner.start();
  const head = await store.headPosition();
  const reached = await runner.waitFor(head, 10_000);
  await runner.stop();
  await readStore.close();
  await store.close();
  if (!reached || runner.position !== head) {
    throw new Error(`stuck at ${runner.position} of head ${head}${runner.error ? `: ${runner.error.stack}` : ''}`);
  }
  say(`CAUGHT_UP ${runner.position}`);
};

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  },
);
