import { DomainError } from '@lib/domain';
import { EventStore } from '@lib/event-store';
import { AppConfig, createRawEventStore, eventsDatabasePath, fieldProblems } from '@lib/shared';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { existsSync } from 'node:fs';
import { CliUsageError } from '../cli/cli-command';

/** A command that cannot do its work for a reason the operator can act on: printed alone, exit code 1. */
export class CommandFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandFailure';
  }
}

/** Runs a command's work; failures the operator can act on (ours, the store's typed errors) print their message and give 1. */
export const exitCodeOf = async (work: () => Promise<number>): Promise<number> => {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof CommandFailure) && !(error instanceof DomainError)) throw error;
    console.error(error.message);
    return 1;
  }
};

/**
 * `--name value` or `--name=value`; every option takes a value. Unknown options, repeated ones and
 * positional arguments are usage errors (exit code 2).
 */
export const parseOptions = (args: readonly string[], names: readonly string[]): Record<string, string> => {
  const values: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const match = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(args[i]);
    if (!match) throw new CliUsageError(`unexpected argument ${JSON.stringify(args[i])}`);
    const [, name, inline] = match;
    if (!names.includes(name)) throw new CliUsageError(`unknown option --${name} (options: ${names.map((n) => `--${n}`).join(', ')})`);
    if (name in values) throw new CliUsageError(`--${name} is given twice`);
    const value = inline ?? args[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new CliUsageError(`--${name} needs a value`);
    values[name] = value;
  }
  return values;
};

/** Validates options with the DTO the HTTP endpoint uses, so both refuse the same values; messages name the option. */
export const validateOptions = <T extends object>(dto: new () => T, values: Record<string, string>): T => {
  const instance = plainToInstance(dto, values);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: true });
  if (errors.length > 0) {
    const messages = fieldProblems(errors).map(({ field, message }) =>
      message.startsWith(`${field} `) ? `--${field}${message.slice(field.length)}` : `--${field}: ${message}`);
    throw new CliUsageError(messages.join('\n'));
  }
  return instance;
};

/** Names the configured store without its connection string, which may hold a password. */
export const describeStore = (config: AppConfig): string =>
  config.EVENTSTORE_CONNECTION_STRING ? 'EventStoreDB (EVENTSTORE_CONNECTION_STRING)' : `SQLite ${eventsDatabasePath(config)}`;

/**
 * The configured store, as written (no upcasting: audit files carry events exactly as recorded).
 * `mustExist`: refuse a SQLite file that is not there rather than create an empty one.
 */
export const openRecordedStore = async (config: AppConfig, { mustExist }: { mustExist: boolean }): Promise<EventStore> => {
  if (mustExist && !config.EVENTSTORE_CONNECTION_STRING && !existsSync(eventsDatabasePath(config))) {
    throw new CommandFailure(`no event store at ${eventsDatabasePath(config)} (DATA_DIR=${config.DATA_DIR})`);
  }
  return createRawEventStore(config);
};
