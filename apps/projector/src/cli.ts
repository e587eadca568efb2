import 'reflect-metadata';
import { ConfigError, loadConfig } from '@lib/shared';
import { CliCommand, CliUsageError } from './cli/cli-command';
import { CLI_COMMANDS } from './cli/commands';

/**
 * `npm run projector -- <command> [arguments]`: operators' commands on the read side and the log
 * (rebuild, verify, export, import). Configuration comes from the same environment as the apps.
 * Exit codes: 0 done, 1 failed (or, for verify, differences found), 2 bad usage or configuration.
 */
const usage = (commands: readonly CliCommand[]): string =>
  ['usage: npm run projector -- <command> [arguments]', '', 'commands:', ...commands.map((command) => `  ${command.usage.padEnd(44)} ${command.summary}`)].join('\n');

const main = async (argv: readonly string[]): Promise<number> => {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage(CLI_COMMANDS));
    return name ? 0 : 2;
  }
  const command = CLI_COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    console.error(`unknown command ${JSON.stringify(name)}\n\n${usage(CLI_COMMANDS)}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`usage: npm run projector -- ${command.usage}\n\n${command.summary}${command.help ? `\n\n${command.help}` : ''}`);
    return 0;
  }
  return command.run(args, loadConfig());
};

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof CliUsageError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error instanceof Error ? error.stack ?? error.message : error);
    process.exit(1);
  },
);
