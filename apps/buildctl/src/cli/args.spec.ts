import { COMMANDS } from '../commands';
import { commandHelp, GLOBAL_OPTIONS, parseCommandLine } from './args';
import { UsageError } from './errors';

const usageErrorOf = (argv: string[]): UsageError => {
  try {
    parseCommandLine(argv, COMMANDS);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
};

describe('parseCommandLine', () => {
  it('finds the command and its flags and positionals', () => {
    const invocation = parseCommandLine(['builds', 'cancel', 'b-1', '--reason', 'wrong ref', '--json'], COMMANDS);
    expect(invocation).toMatchObject({ kind: 'run', command: { path: ['builds', 'cancel'] }, positionals: ['b-1'], options: { reason: 'wrong ref', json: true } });
  });

  it('takes global flags before, between and after the command words', () => {
    const invocation = parseCommandLine(['--projector', 'http://p:1', 'builds', '--json', 'list', '--status=failed,expired'], COMMANDS);
    expect(invocation).toMatchObject({ kind: 'run', command: { path: ['builds', 'list'] }, options: { projector: 'http://p:1', json: true, status: 'failed,expired' } });
  });

  it('does not read a global flag\'s value as a command word', () => {
    const invocation = parseCommandLine(['--token-file', 'builds', 'incidents', 'list'], COMMANDS);
    expect(invocation).toMatchObject({ kind: 'run', command: { path: ['incidents', 'list'] }, options: { 'token-file': 'builds' } });
  });

  it('passes variadic positionals through', () => {
    expect(parseCommandLine(['projections', 'verify', 'build-status', 'queue'], COMMANDS)).toMatchObject({ positionals: ['build-status', 'queue'] });
  });

  it.each([
    [['builds', 'list', '--help']],
    [['builds', 'list', '-h']],
    [['help', 'builds', 'list']],
  ])('answers %j with the command\'s help', (argv) => {
    const invocation = parseCommandLine(argv, COMMANDS);
    expect(invocation).toEqual({ kind: 'help', text: commandHelp(COMMANDS.find((command) => command.path.join(' ') === 'builds list')!) });
  });

  it.each([[['--help']], [['help']], [['builds', '--help']], [['help', 'incidents']]])('answers %j with the group\'s commands', (argv) => {
    const invocation = parseCommandLine(argv, COMMANDS);
    expect(invocation.kind).toBe('help');
    expect(invocation.kind === 'help' && invocation.text).toMatch(/^usage: buildctl .*<command>/);
  });

  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['builds', 'lst'], /unknown command "builds lst"/],
    [[], /no command given/],
    [['builds'], /"builds" needs a command/],
    [['builds', 'list', '--bogus'], /Unknown option '--bogus'/],
    [['builds', 'show'], /missing BUILD_ID/],
    [['builds', 'show', 'a', 'b'], /unexpected argument "b"/],
    [['builds', 'list', '--org'], /argument missing/],
    [['builds', 'list', '--org', ''], /--org needs a value/],
    [['builds', 'list', '--all=yes'], /does not take an argument/],
  ])('refuses %j', (argv, message) => {
    const error = usageErrorOf(argv);
    expect(error.message).toMatch(message);
    expect(error.usage).toMatch(/^usage: buildctl/);
    expect(error.exitCode).toBe(2);
  });
});

describe('help', () => {
  it.each(COMMANDS.map((command) => [command.path.join(' '), command] as const))('of %s lists its flags, the global flags, the environment and the exit codes', (_, command) => {
    const text = commandHelp(command);
    expect(text).toContain(`usage: buildctl ${command.path.join(' ')}`);
    for (const name of Object.keys({ ...GLOBAL_OPTIONS, ...command.options })) expect(text).toContain(`--${name}`);
    expect(text).toContain('BUILDCTL_TOKEN');
    expect(text).toContain('exit codes:');
  });
});
