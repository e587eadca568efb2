import { EventStore } from '@lib/event-store';
import { AppConfig, createEventStore, eventsDatabasePath, redactUrl } from '@lib/shared';
import { existsSync } from 'node:fs';
import { AnyProjection } from '../projections/projection';
import { PROJECTIONS } from '../projector.providers';
import { createReadStore, readStoreLocation } from '../read-store/read-store.factory';
import { ReadStore } from '../read-store/read-store.port';
import { rebuild } from '../runner/rebuild';
import { CliCommand, CliUsageError } from './cli-command';
import { Progress } from './progress';

/** The projections named on the command line (all when none is), or a usage error naming the known ones. */
export const selectProjections = (args: readonly string[], known: readonly AnyProjection[] = PROJECTIONS): AnyProjection[] => {
  const options = args.filter((arg) => arg.startsWith('-'));
  if (options.length > 0) throw new CliUsageError(`unknown option(s) ${options.join(', ')}: name projections, or none for all`);
  const unknown = args.filter((name) => !known.some((projection) => projection.name === name));
  if (unknown.length > 0) {
    throw new CliUsageError(`unknown projection(s) ${unknown.join(', ')}; known projections: ${known.map((projection) => projection.name).join(', ')}`);
  }
  return args.length === 0 ? [...known] : known.filter((projection) => args.includes(projection.name));
};

export const describeReadStore = (config: AppConfig): string => redactUrl(readStoreLocation(config));

/** The configured event store and read store, for one command; a missing SQLite log is a configuration error. */
export const withStores = async <T>(config: AppConfig, work: (store: EventStore, readStore: ReadStore) => Promise<T>): Promise<T> => {
  if (!config.EVENTSTORE_CONNECTION_STRING && !existsSync(eventsDatabasePath(config))) {
    throw new CliUsageError(`no event log at ${eventsDatabasePath(config)}: set DATA_DIR to the directory the apps use`);
  }
  const store = await createEventStore(config);
  try {
    const readStore = await createReadStore(config);
    try {
      return await work(store, readStore);
    } finally {
      await readStore.close();
    }
  } finally {
    await store.close();
  }
};

const run = async (args: readonly string[], config: AppConfig): Promise<number> => {
  const projections = selectProjections(args);
  return withStores(config, async (store, readStore) => {
    console.log(`rebuild: ${projections.map((p) => p.name).join(', ')} in ${describeReadStore(config)}, from position 0`);
    const progress = new Progress('rebuild', process.stderr);
    const result = await rebuild(store, readStore, projections, {
      batchSize: config.PROJECTOR_BATCH_SIZE,
      onProgress: ({ done, total }) => progress.update(done, total),
    });
    progress.finish(`${result.events.toLocaleString('en-US')} events replayed`);
    for (const record of result.live) console.log(`${record.name}: generation ${record.generation} (version ${record.version}) is live at position ${record.position}`);
    return 0;
  });
};

export const rebuildCommand: CliCommand = {
  name: 'rebuild',
  usage: 'rebuild [projection…]',
  summary: 'replay the log from position 0 into new tables, then switch readers to them at once',
  help: [
    'Rebuilds the named projections (all when none is named) into a new generation of their tables, through',
    'the same runner as the projector, up to the head of the log; then, in one transaction, makes it the live',
    'generation with its checkpoint, and drops the old tables. Until then queries read the old tables, and a',
    'running projector keeps writing them; at its next batch it notices the switch and continues on the new',
    'tables from their checkpoint. Interrupted (even with kill -9), it leaves the live tables as they were.',
    'Progress goes to standard error: a bar on a terminal, a line every few seconds otherwise.',
  ].join('\n'),
  run,
};
