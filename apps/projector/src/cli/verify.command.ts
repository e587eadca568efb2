import { AppConfig, redactUrl } from '@lib/shared';
import { openScratchStore, readStoreLocation } from '../read-store/read-store.factory';
import { verify } from '../runner/verify';
import { CliCommand } from './cli-command';
import { Progress } from './progress';
import { describeReadStore, selectProjections, withStores } from './rebuild.command';

const run = async (args: readonly string[], config: AppConfig): Promise<number> => {
  const projections = selectProjections(args);
  return withStores(config, async (store, live) => {
    const scratch = await openScratchStore(readStoreLocation(config));
    try {
      console.log(`verify: ${projections.map((p) => p.name).join(', ')} in ${describeReadStore(config)} against a replay of the log into ${redactUrl(scratch.location)}`);
      const progress = new Progress('verify', process.stderr);
      const result = await verify(store, live, scratch.store, projections, (line) => console.log(line), {
        batchSize: config.PROJECTOR_BATCH_SIZE,
        onProgress: ({ done, total }) => progress.update(done, total),
        onReplayed: () => progress.finish('replayed'),
      });
      console.log(result.differences === 0
        ? 'verify: the read models equal a replay of the log'
        : `verify: ${result.differences} difference${result.differences === 1 ? '' : 's'} between the read models and a replay of the log`);
      return result.differences === 0 ? 0 : 1;
    } finally {
      await scratch.remove();
    }
  });
};

export const verifyCommand: CliCommand = {
  name: 'verify',
  usage: 'verify [projection…]',
  summary: 'replay the log into a scratch store and compare it with the live read models; exit 1 on any difference',
  help: [
    'Takes a snapshot of the live read models (all projections when none is named), replays the log into a',
    'scratch store of the same kind (a temporary SQLite file beside the live one, or a temporary PostgreSQL',
    'schema) up to exactly the checkpoint of each projection in the snapshot, and compares every document:',
    'its fields, its query columns and the position it last absorbed. Prints every difference and removes',
    'the scratch store. The projector may keep running meanwhile. Exit codes: 0 equal, 1 differences.',
  ].join('\n'),
  run,
};
