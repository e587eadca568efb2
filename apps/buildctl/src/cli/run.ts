import { ApiClient } from '../client';
import { commandUsage, parseCommandLine } from './args';
import type { Command, Output } from './command';
import { resolveSettings } from './config';
import { describeError, exitCodeOf, UsageError } from './errors';
import { EXIT } from './exit-codes';

export type Environment = Readonly<{
  env: NodeJS.ProcessEnv;
  io: Output;
  readFile: (path: string) => string;
  fetch?: typeof fetch;
}>;

/**
 * Parses the command line, runs the command and returns the exit code. Every expected failure is
 * printed here, once, to stderr; the token never appears in what is printed.
 */
export const runCli = async (argv: readonly string[], environment: Environment, commands: readonly Command[]): Promise<number> => {
  const { io } = environment;
  let command: Command | null = null;
  try {
    const invocation = parseCommandLine(argv, commands);
    if (invocation.kind === 'help') {
      io.out(`${invocation.text}\n`);
      return EXIT.ok;
    }
    command = invocation.command;
    const { options, positionals } = invocation;
    const settings = command.remote === false ? null : resolveSettings(options, environment.env, environment.readFile);
    const client = () => {
      if (!settings?.token) throw new UsageError('no API token: set BUILDCTL_TOKEN, or pass --token-file PATH or --token TOKEN');
      return new ApiClient({ ...settings, token: settings.token }, environment.fetch);
    };
    return await command.run({ options, positionals, client, json: options.json === true, io });
  } catch (error) {
    const code = exitCodeOf(error);
    if (code === null) {
      // A local failure (a file that cannot be written…): the operation failed.
      io.err(`buildctl: ${error instanceof Error ? error.message : String(error)}\n`);
      return EXIT.failed;
    }
    for (const line of describeError(error as Parameters<typeof describeError>[0])) io.err(`${line}\n`);
    if (error instanceof UsageError) {
      // Errors found while running (a missing --org) get the command's usage like those found parsing.
      const usage = error.usage ?? (command ? commandUsage(command) : undefined);
      if (usage) io.err(`\n${usage}\n`);
    }
    return code;
  }
};
