'use strict';
/**
 * A rebuild process for test/projector-crash.int-spec.ts: rebuilds the build-status projection from
 * the event-store file into a new generation of the read store (a SQLite file, or a postgres:// URL)
 * through the code path of `npm run projector -- rebuild`, then prints `REBUILT <generation> <position>`.
 *
 *   node test/support/rebuild-child.js <events.sqlite> <read-models.sqlite | postgres://…?schema=…>
 *
 * Optional crash points (env); the process kills itself with SIGKILL:
 *   KILL_AFTER_POSITION  after the rebuild's transaction whose checkpoint is >= it committed;
 *   KILL_BEFORE_PROMOTE  (any value) once the new generation has caught up, just before the switch.
 *   BATCH_SIZE           events per batch (default 7).
 */
const { writeSync } = require('node:fs');
const { SqliteEventStore } = require('../../dist/libs/event-store/src/sqlite/sqlite-event-store');
const { openReadStore } = require('../../dist/apps/projector/src/read-store/read-store.factory');
const { rebuild } = require('../../dist/apps/projector/src/runner/rebuild');
const { buildStatusProjection } = require('../../dist/apps/projector/src/projections/build-status.projection');

const [eventsPath, readStoreLocation] = process.argv.slice(2);
const killAfterPosition = process.env.KILL_AFTER_POSITION ? Number(process.env.KILL_AFTER_POSITION) : Infinity;
const killBeforePromote = process.env.KILL_BEFORE_PROMOTE !== undefined;
const batchSize = Number(process.env.BATCH_SIZE ?? 7);

/** Synchronous write, so the line is out before the process is gone. */
const say = (line) => writeSync(1, `${line}\n`);

const die = (why) => {
  say(`KILLING rebuild ${why}`);
  process.kill(process.pid, 'SIGKILL');
};

const main = async () => {
  if (!eventsPath || !readStoreLocation) throw new Error('usage: rebuild-child.js <events.sqlite> <read-models.sqlite | postgres://…>');
  const store = new SqliteEventStore({ path: eventsPath, pollIntervalMs: 5 });
  const readStore = await openReadStore(readStoreLocation);
  let checkpoint = 0;
  const result = await rebuild(store, readStore, [buildStatusProjection], {
    batchSize,
    afterCommit: (position) => {
      checkpoint = position;
      if (position >= killAfterPosition) die(`after-commit at checkpoint ${position}`);
    },
    beforePromote: () => {
      if (killBeforePromote) die(`before-promote at checkpoint ${checkpoint}`);
    },
  });
  await readStore.close();
  await store.close();
  const [live] = result.live;
  say(`REBUILT ${live.generation} ${live.position}`);
};

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  },
);
