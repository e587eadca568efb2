import { readFileSync } from 'node:fs';
import { runCli } from './cli/run';
import { COMMANDS } from './commands';

/**
 * buildctl: the command line of the build orchestrator (see `buildctl help`). Exits only once
 * standard output has drained, so that piped output is never cut.
 */
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // The reader went away (`buildctl builds list | head`): nothing more to say.
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

runCli(process.argv.slice(2), {
  env: process.env,
  io: { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
  readFile: (path) => readFileSync(path, 'utf8'),
}, COMMANDS).then((code) => {
  // exitCode first: should the write's callback not run (nothing pending), the natural exit still carries it.
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
});
