import { StoreNotEmptyError } from '@lib/event-store';
import { CliUsageError } from '../cli/cli-command';
import { AuditEventsQueryDto } from './audit.dto';
import { CommandFailure, exitCodeOf, parseOptions, validateOptions } from './cli-support';

describe('command-line options', () => {
  it('reads --name value and --name=value', () => {
    expect(parseOptions(['--out', 'x.ndjson', '--org=acme', '--from=2026-11-16T09:00:00+01:00'], ['out', 'org', 'from'])).toEqual({
      out: 'x.ndjson', org: 'acme', from: '2026-11-16T09:00:00+01:00',
    });
    expect(parseOptions(['--out', '-'], ['out'])).toEqual({ out: '-' });
  });

  it.each([
    [['--colour', 'red'], /unknown option --colour \(options: --out, --org\)/],
    [['--out', 'a', '--out', 'b'], /--out is given twice/],
    [['--out'], /--out needs a value/],
    [['--out', '--org', 'acme'], /--out needs a value/],
    [['file.ndjson'], /unexpected argument "file.ndjson"/],
    [['-o', 'file'], /unexpected argument "-o"/],
  ])('refuses %j as a usage error', (args, message) => {
    expect(() => parseOptions(args, ['out', 'org'])).toThrow(CliUsageError);
    expect(() => parseOptions(args, ['out', 'org'])).toThrow(message);
  });

  it('validates with the HTTP DTO and names the option at fault', () => {
    expect(validateOptions(AuditEventsQueryDto, { from: '3', after: '7' })).toMatchObject({ from: '3', after: 7 });
    expect(() => validateOptions(AuditEventsQueryDto, { from: 'last tuesday' })).toThrow(/^--from must be a positive global position or an ISO-8601 time/);
    expect(() => validateOptions(AuditEventsQueryDto, { from: '9', to: '3' })).toThrow('--to must not lie before from');
    expect(() => validateOptions(AuditEventsQueryDto, { org: 'ACME' })).toThrow('--org must be an org slug');
  });
});

describe('exit codes of a command', () => {
  it('prints failures the operator can act on and gives 1; lets anything else through', async () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await expect(exitCodeOf(async () => 0)).resolves.toBe(0);
      await expect(exitCodeOf(async () => { throw new CommandFailure('no file at /x'); })).resolves.toBe(1);
      await expect(exitCodeOf(async () => { throw new StoreNotEmptyError(4); })).resolves.toBe(1);
      expect(printed.mock.calls.map(([message]) => message)).toEqual(['no file at /x', expect.stringMatching(/^The event store is not empty \(its log reaches position 4\)/)]);
      await expect(exitCodeOf(async () => { throw new TypeError('a bug'); })).rejects.toThrow('a bug');
    } finally {
      printed.mockRestore();
    }
  });
});
