import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Command, CommandContext } from '../cli/command';
import { UsageError } from '../cli/errors';
import { stringOption } from './shared';

/** The projector's own CLI, compiled beside buildctl (dist/apps/projector/src/cli.js). */
export const PROJECTOR_CLI = join(__dirname, '..', '..', '..', 'projector', 'src', 'cli.js');

const MACHINE_NOTE = [
  'This acts on the machine\'s stores, not through the APIs: it runs the projector\'s CLI',
  '(npm run projector -- …) with this environment, which must be the apps\' configuration',
  '(DATA_DIR, EVENTSTORE_CONNECTION_STRING, READ_STORE_URL…). No token is needed. Its output,',
  'progress bar and exit code are passed through (0 done, 1 refused/failed or differences, 2 bad usage).',
].join('\n');

/**
 * Runs the projector CLI with inherited stdio and returns its exit code. While it runs, Ctrl-C is
 * left to the child (same process group), so that its own interruption handling decides the code.
 */
export const runProjectorCli = (args: readonly string[]): Promise<number> => {
  if (!existsSync(PROJECTOR_CLI)) throw new UsageError(`the projector CLI is missing (${PROJECTOR_CLI}): run "npm run build"`);
  return new Promise((resolve, reject) => {
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    const child = spawn(process.execPath, ['--max-semi-space-size=64', PROJECTOR_CLI, ...args], { stdio: 'inherit', env: process.env });
    child.once('error', (error) => {
      process.off('SIGINT', ignore);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
};

const importCommand: Command = {
  path: ['audit', 'import'],
  summary: 'load an audit export into this machine\'s empty event store (projector CLI "import")',
  options: { in: { type: 'string', short: 'i', value: 'FILE', description: 'the NDJSON export to load (required)' } },
  details: MACHINE_NOTE,
  remote: false,
  run: (context: CommandContext) => {
    const file = stringOption(context.options, 'in');
    if (file === undefined) throw new UsageError('--in FILE is required');
    return runProjectorCli(['import', '--in', file]);
  },
};

const projections = (verb: 'rebuild' | 'verify', summary: string): Command => ({
  path: ['projections', verb],
  summary,
  positionals: [{ name: 'PROJECTION', required: false, variadic: true }],
  details: `With no PROJECTION, all of them (build-status, queue, routes, build-stats, incidents, failure-breakdown).\n\n${MACHINE_NOTE}`,
  remote: false,
  run: (context: CommandContext) => runProjectorCli([verb, ...context.positionals]),
});

export const MACHINE_COMMANDS: readonly Command[] = [
  importCommand,
  projections('rebuild', 'replay the log into new read-model tables and switch to them (projector CLI "rebuild")'),
  projections('verify', 'compare the read models with a replay of the log; exit 1 on any difference (projector CLI "verify")'),
];
