import 'reflect-metadata';
import { DomainError, PRINCIPAL_ID_PATTERN } from '@lib/domain';
import { ConfigError, createEventStore, CryptoIdGenerator, loadConfig, SystemClock } from '@lib/shared';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { AdminTokenRefused, createAdminToken } from './cli/create-admin-token';

/**
 * `npm run orchestrator -- <command>`: operators' commands on the machine, against the configured
 * event store (same environment as the apps). Exit codes: 0 done, 1 failed, 2 bad usage or configuration.
 */

const USAGE = [
  'usage: npm run orchestrator -- <command> [options]',
  '',
  'commands:',
  '  create-admin-token [--principal ID] [--label TEXT] [--expires-in-days N]',
  '      create the admin principal if it does not exist (default id: admin) and issue it an API token.',
  '      The token alone goes to standard output (TOKEN=$(npm run -s orchestrator -- create-admin-token));',
  '      a note goes to standard error. The token is shown this once; only its hash is recorded.',
  '      The events name the actor cli:<your user name>.',
].join('\n');

class UsageError extends Error {}

type Options = { principalId: string; label: string | null; expiresInDays: number | null };

const parseOptions = (args: string[]): Options | 'help' => {
  let values: { principal?: string; label?: string; 'expires-in-days'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: { principal: { type: 'string' }, label: { type: 'string' }, 'expires-in-days': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (npm run orchestrator -- --help lists the options)`);
  }
  if (values.help) return 'help';
  const principalId = values.principal ?? 'admin';
  if (!PRINCIPAL_ID_PATTERN.test(principalId)) throw new UsageError('--principal must be 1 to 63 lower-case letters, digits, _ or -, starting with a letter or digit');
  const label = values.label ?? 'create-admin-token';
  if (label.trim() === '' || label.length > 200) throw new UsageError('--label must be 1 to 200 characters');
  const days = values['expires-in-days'];
  if (days !== undefined && !(/^\d{1,4}$/.test(days) && Number(days) >= 1 && Number(days) <= 3650)) throw new UsageError('--expires-in-days must be a whole number from 1 to 3650');
  return { principalId, label, expiresInDays: days === undefined ? null : Number(days) };
};

/** `cli:<user>`: the person at the machine, as far as the operating system knows. */
const cliActor = (): string => {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`;
  }
};

const main = async (argv: string[]): Promise<number> => {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? console.log : console.error)(USAGE);
    return name ? 0 : 2;
  }
  if (name !== 'create-admin-token') throw new UsageError(`unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
  const options = parseOptions(args);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const config = loadConfig();
  const store = await createEventStore(config);
  try {
    const actor = cliActor();
    const { issued, created } = await createAdminToken(store, new SystemClock(), new CryptoIdGenerator(), { ...options, actor });
    // Written before the exit below, whatever stdout is (a pipe, a file).
    await new Promise<void>((resolve) => process.stdout.write(`${issued.token}\n`, () => resolve()));
    const where = config.EVENTSTORE_CONNECTION_STRING ? 'EventStoreDB' : `SQLite in ${config.DATA_DIR}`;
    console.error([
      `${created ? 'Created admin principal' : 'Admin principal'} ${issued.principalId}; issued token ${issued.tokenId}`
        + `${issued.expiresAt ? `, expiring ${issued.expiresAt}` : ' (no expiry)'}, as ${actor}, in ${where}.`,
      'The token above is shown this once and recorded nowhere: keep it somewhere safe.',
      'Use it as: Authorization: Bearer <token>',
    ].join('\n'));
    return 0;
  } finally {
    await store.close();
  }
};

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error instanceof AdminTokenRefused || error instanceof DomainError ? error.message : error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
