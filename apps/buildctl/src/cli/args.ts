import { parseArgs, ParseArgsConfig } from 'node:util';
import type { Command, OptionSpec, ParsedOptions } from './command';
import { ENV_HELP } from './config';
import { UsageError } from './errors';
import { EXIT_CODES_HELP } from './exit-codes';

/** Flags every command takes. Remote-only ones are ignored by the commands that act on the machine. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  orchestrator: { type: 'string', value: 'URL', description: 'command API (env BUILDCTL_ORCHESTRATOR_URL)' },
  projector: { type: 'string', value: 'URL', description: 'query API (env BUILDCTL_PROJECTOR_URL)' },
  token: { type: 'string', value: 'TOKEN', description: 'API token (env BUILDCTL_TOKEN); visible to ps, prefer the env or a file' },
  'token-file': { type: 'string', value: 'PATH', description: 'read the API token from the first line of a file' },
  json: { type: 'boolean', description: 'print the raw JSON (NDJSON for streams) instead of tables' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export type Invocation =
  | Readonly<{ kind: 'help'; text: string }>
  | Readonly<{ kind: 'run'; command: Command; options: ParsedOptions; positionals: readonly string[] }>;

const startsWith = (path: readonly string[], prefix: readonly string[]) => prefix.every((word, index) => path[index] === word);
const sameWords = (a: readonly string[], b: readonly string[]) => a.length === b.length && startsWith(a, b);
const takesValue = (token: string) => GLOBAL_OPTIONS[token.replace(/^--/, '')]?.type === 'string' && token.startsWith('--') && !token.includes('=');

/**
 * Splits argv into the command's words (wherever global flags sit between them) and the rest, then
 * parses the rest strictly against the command's options. Unknown words and flags are usage errors
 * carrying the nearest usage text.
 */
export const parseCommandLine = (argv: readonly string[], commands: readonly Command[]): Invocation => {
  const asksHelp = argv[0] === 'help';
  const words: string[] = [];
  const rest: string[] = [];
  let leaf: Command | undefined;
  for (let index = asksHelp ? 1 : 0; index < argv.length; index += 1) {
    const token = argv[index];
    if (token === '--') {
      rest.push(...argv.slice(index));
      break;
    }
    if (!leaf && !token.startsWith('-')) {
      const candidate = [...words, token];
      if (!commands.some((command) => startsWith(command.path, candidate))) {
        throw new UsageError(`unknown command "${candidate.join(' ')}"`, groupUsage(words, commands));
      }
      words.push(token);
      leaf = commands.find((command) => sameWords(command.path, words));
      continue;
    }
    rest.push(token);
    if (takesValue(token) && index + 1 < argv.length) rest.push(argv[(index += 1)]);
  }
  const wantsHelp = asksHelp || rest.slice(0, rest.indexOf('--') === -1 ? undefined : rest.indexOf('--')).some((token) => token === '--help' || token === '-h');
  if (!leaf) {
    if (wantsHelp) return { kind: 'help', text: groupHelp(words, commands) };
    throw new UsageError(words.length === 0 ? 'no command given' : `"${words.join(' ')}" needs a command`, groupUsage(words, commands));
  }
  if (wantsHelp) return { kind: 'help', text: commandHelp(leaf) };
  return { kind: 'run', command: leaf, ...parseRest(leaf, rest) };
};

const parseRest = (command: Command, args: string[]): { options: ParsedOptions; positionals: string[] } => {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries({ ...GLOBAL_OPTIONS, ...command.options })) options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  let parsed: { values: ParsedOptions; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as { values: ParsedOptions; positionals: string[] };
  } catch (error) {
    throw new UsageError((error as Error).message, commandUsage(command));
  }
  const specs = command.positionals ?? [];
  const missing = specs.filter((spec, index) => spec.required && parsed.positionals[index] === undefined);
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((spec) => spec.name).join(' ')}`, commandUsage(command));
  if (!specs.some((spec) => spec.variadic) && parsed.positionals.length > specs.length) {
    throw new UsageError(`unexpected argument "${parsed.positionals[specs.length]}"`, commandUsage(command));
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string' && value.trim() === '') throw new UsageError(`--${name} needs a value`, commandUsage(command));
  }
  return { options: parsed.values, positionals: parsed.positionals };
};

// ── help ─────────────────────────────────────────────────────────────────────────────────────────

const synopsis = (command: Command): string => {
  const positionals = (command.positionals ?? []).map((spec) => {
    const name = `${spec.name}${spec.variadic ? '…' : ''}`;
    return spec.required ? name : `[${name}]`;
  });
  return ['buildctl', ...command.path, ...positionals, '[options]'].join(' ');
};

const optionLines = (options: Readonly<Record<string, OptionSpec>>): string[] =>
  Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    return `  ${flag.padEnd(26)} ${spec.description}`;
  });

export const commandHelp = (command: Command): string =>
  [
    `usage: ${synopsis(command)}`,
    '',
    command.summary,
    ...(command.options && Object.keys(command.options).length > 0 ? ['', 'options:', ...optionLines(command.options)] : []),
    '',
    'global options:',
    ...optionLines(GLOBAL_OPTIONS),
    ...(command.details ? ['', command.details] : []),
    '',
    ENV_HELP,
    '',
    EXIT_CODES_HELP,
  ].join('\n');

/** The short usage printed under a usage error: the synopsis and where the full help is. */
export const commandUsage = (command: Command): string =>
  `usage: ${synopsis(command)}
Run "buildctl ${command.path.join(' ')} --help" for its options, environment and exit codes.`;

const groupCommands = (words: readonly string[], commands: readonly Command[]): string[] => {
  const inGroup = commands.filter((command) => startsWith(command.path, words));
  const width = Math.max(...inGroup.map((command) => synopsis(command).length));
  return inGroup.map((command) => `  ${synopsis(command).padEnd(width)}  ${command.summary}`);
};

export const groupUsage = (words: readonly string[], commands: readonly Command[]): string =>
  [`usage: buildctl ${[...words, '<command>'].join(' ')} [options]`, '', 'commands:', ...groupCommands(words, commands), '', `Run "buildctl ${[...words, '<command>'].join(' ')} --help" for a command's options.`].join('\n');

export const groupHelp = (words: readonly string[], commands: readonly Command[]): string => {
  return [
    `usage: buildctl ${[...words, '<command>'].join(' ')} [options]`,
    ...(words.length === 0 ? ['', 'Queue and follow builds, read incidents, export the audit log, rebuild and verify projections.'] : []),
    '',
    'commands:',
    ...groupCommands(words, commands),
    '',
    `Run "buildctl ${[...words, '<command>'].join(' ')} --help" (or "buildctl help ${[...words, '<command>'].join(' ')}") for a command's options.`,
    '',
    'global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    ENV_HELP,
    '',
    EXIT_CODES_HELP,
  ].join('\n');
};
