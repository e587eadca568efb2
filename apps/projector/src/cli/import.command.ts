import { StoreNotEmptyError } from '@lib/event-store';
import { AppConfig, redactUrl } from '@lib/shared';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CommandFailure, describeStore, exitCodeOf, openRecordedStore, parseOptions } from '../audit/cli-support';
import { importBatches, validateAuditFile } from '../audit/import-file';
import { isPostgresLocation, readStoreLocation } from '../read-store/read-store.factory';
import { CliCommand, CliUsageError } from './cli-command';

const refusal = (config: AppConfig, error: StoreNotEmptyError): CommandFailure =>
  new CommandFailure(`refusing to import into ${describeStore(config)}: ${error.message}. `
    + 'Import into a new store (a fresh DATA_DIR before the apps first start, or an empty EventStoreDB database); nothing was written.');

const existingFile = (path: string): string => {
  const absolute = resolve(path);
  if (!existsSync(absolute) || !statSync(absolute).isFile()) throw new CommandFailure(`no file at ${absolute}`);
  return absolute;
};

const run = async (args: readonly string[], config: AppConfig): Promise<number> => {
  const { in: given } = parseOptions(args, ['in']);
  if (given === undefined || given === '') throw new CliUsageError('import needs --in FILE');
  if (given === '-') throw new CliUsageError('import reads its file twice (to validate it, then to load it), so --in must name a file, not -');
  return exitCodeOf(async () => {
    const path = existingFile(given);
    const store = await openRecordedStore(config, { mustExist: false });
    try {
      const head = await store.headPosition();
      if (head > 0) throw refusal(config, new StoreNotEmptyError(head));
      const file = await validateAuditFile(path);
      const result = await store.importEvents(importBatches(path, file)).catch((error: unknown) => {
        throw error instanceof StoreNotEmptyError ? refusal(config, error) : error;
      });
      console.log(`imported ${result.events} events in ${file.streams} streams from ${path} into ${describeStore(config)}, `
        + `keeping event ids, streams, revisions and order; global positions are the store's own `
        + `(the file's last event, at ${file.lastPosition || 'none'}, is now at ${result.lastPosition || 'none'})`);
      const readModels = readStoreLocation(config);
      if (isPostgresLocation(readModels) || existsSync(readModels)) {
        console.log(`note: ${redactUrl(readModels)} may hold read models of another log: run npm run projector -- rebuild before the projector starts`);
      }
      return 0;
    } finally {
      await store.close();
    }
  });
};

export const importCommand: CliCommand = {
  name: 'import',
  usage: 'import --in FILE',
  summary: 'load an export into an empty store, keeping event ids, streams, revisions and order',
  help: [
    'options:',
    '  --in FILE    an NDJSON export (npm run projector -- export, or the body of GET /audit/events)',
    '',
    'The target is the configured store: SQLite under DATA_DIR, or EventStoreDB with EVENTSTORE_CONNECTION_STRING',
    '(the way to move an installation from the embedded store to EventStoreDB). Run it before the apps start.',
    'It refuses a store that holds any event. It first validates every line (shape, log order, whole streams with',
    'consecutive revisions from 0, unique event ids) and writes nothing if one fails; then it loads the events in',
    'the file\'s order, each stream at its expected revision. SQLite loads in one transaction (all or nothing);',
    'EventStoreDB has no transaction across streams, so a failure there (the server going away) leaves the events',
    'before it: empty the database and import again. Global positions are the new store\'s own.',
  ].join('\n'),
  run,
};
