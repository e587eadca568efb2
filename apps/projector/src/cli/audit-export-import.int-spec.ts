import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordedEvent, SqliteEventStore } from '@lib/event-store';
import { toAuditLine } from '../audit/audit-line';
import { SAMPLE_ORG_EVENTS, writeSampleLog } from '../audit/testing/sample-log';

const CLI = join(__dirname, '../../../../dist/apps/projector/src/cli.js');
const work = mkdtempSync(join(tmpdir(), 'export-import-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Run = { code: number | null; stdout: string; stderr: string };
/** `npm run projector -- …` as a real process on a data directory (the compiled CLI; jest's global setup builds it). */
const projector = (dataDir: string, ...args: string[]): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, DATA_DIR: dataDir, EVENTSTORE_CONNECTION_STRING: '' } });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk) => (out.stdout += chunk));
    child.stderr.on('data', (chunk) => (out.stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
  });

let dirs = 0;
const freshDir = (): string => mkdtempSync(join(work, `data-${++dirs}-`));
const logOf = async (dataDir: string): Promise<RecordedEvent[]> => {
  const store = new SqliteEventStore({ path: join(dataDir, 'events.sqlite') });
  try {
    return await store.readAll();
  } finally {
    await store.close();
  }
};
/** What an import keeps: everything but the positions and the time of recording. */
const kept = (events: readonly RecordedEvent[]) =>
  events.map(({ streamName, streamRevision, type, data, metadata }) => ({ streamName, streamRevision, type, data, metadata }));

let source: string;
let sourceLog: RecordedEvent[];
beforeAll(async () => {
  source = freshDir();
  const store = new SqliteEventStore({ path: join(source, 'events.sqlite') });
  await writeSampleLog(store);
  await store.close();
  sourceLog = await logOf(source);
});

describe('export and import through the projector CLI', () => {
  it('moves a whole log into a fresh store, event by event: ids, streams, revisions, order, data and metadata', async () => {
    const file = join(work, 'whole.ndjson');
    const exported = await projector(source, 'export', '--out', file);
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    expect(exported.stdout).toMatch(/^exported 27 events \(\d+ bytes\) from SQLite .*events\.sqlite to .*whole\.ndjson; last position 27; the log's head was 27/);
    expect(readFileSync(file, 'utf8')).toBe(sourceLog.map(toAuditLine).join(''));
    expect(readdirSync(work).filter((name) => name.endsWith('.partial'))).toEqual([]);

    const target = freshDir();
    const imported = await projector(target, 'import', '--in', file);
    expect(imported).toMatchObject({ code: 0, stderr: '' });
    expect(imported.stdout).toMatch(/^imported 27 events in 8 streams from .*whole\.ndjson into SQLite .*; .*the file's last event, at 27, is now at 27/);
    const targetLog = await logOf(target);
    expect(kept(targetLog)).toEqual(kept(sourceLog));
    expect(targetLog.filter((event) => event.metadata.schemaVersion === 1)).toHaveLength(10); // as written, not upcast
  });

  it('exports one org as whole build streams, which import into a store of their own', async () => {
    const file = join(work, 'acme.ndjson');
    expect((await projector(source, 'export', '--out', file, '--org', 'acme')).code).toBe(0);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(SAMPLE_ORG_EVENTS.acme);
    const target = freshDir();
    expect(await projector(target, 'import', '--in', file)).toMatchObject({ code: 0 });
    expect(kept(await logOf(target))).toEqual(kept(sourceLog.filter((event) => event.data.org === 'acme')));
  });

  it('refuses an export that holds only part of some streams, naming the line, and writes nothing', async () => {
    const file = join(work, 'part.ndjson');
    expect((await projector(source, 'export', '--out', file, '--from', '5')).code).toBe(0);
    const target = freshDir();
    const refused = await projector(target, 'import', '--in', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot be imported:\n {2}line 2: stream build-\S+ starts at revision 1, not 0: the file holds only part of it/);
    expect(await logOf(target)).toEqual([]);
  });

  it('refuses a store that already holds events and leaves it as it was', async () => {
    const file = join(work, 'whole.ndjson');
    const refused = await projector(source, 'import', '--in', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^refusing to import into SQLite .*: The event store is not empty \(its log reaches position 27\).*nothing was written/);
    expect(await logOf(source)).toEqual(sourceLog);
  });

  it('validates every line before writing: a damaged file writes nothing and names its lines', async () => {
    const lines = sourceLog.map(toAuditLine);
    [lines[3], lines[4]] = [lines[4], lines[3]];
    lines[6] = '{"streamName": "build-x", "oops"\n';
    lines.push(lines[0]);
    const file = join(work, 'damaged.ndjson');
    writeFileSync(file, lines.join(''));
    const target = freshDir();
    const refused = await projector(target, 'import', '--in', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('line 5: globalPosition 4 does not follow 5: lines must be in log order');
    expect(refused.stderr).toMatch(/line 7: not JSON/);
    expect(refused.stderr).toContain('line 28: globalPosition 1 does not follow 27');
    expect(refused.stderr).toMatch(/line 28: stream executor-\S+ goes from revision 0 to 0\n {2}line 28: event id \S+ appears twice/);
    expect(await logOf(target)).toEqual([]);
  });

  it('writes to standard output with --out -, its summary going to standard error', async () => {
    const piped = await projector(source, 'export', '--out', '-', '--org', 'globex', '--after', '10');
    expect(piped.code).toBe(0);
    expect(piped.stdout).toBe(sourceLog.filter((event) => event.data.org === 'globex' && event.globalPosition > 10).map(toAuditLine).join(''));
    expect(piped.stderr).toMatch(/^exported 4 events .* to standard output; last position 16/);
  });

  it.each([
    [['export'], /export needs --out FILE/],
    [['export', '--out', 'x', '--colour', 'red'], /unknown option --colour/],
    [['export', '--out', 'x', '--from', 'yesterday'], /--from must be a positive global position or an ISO-8601 time/],
    [['export', '--out', 'x', '--from', '9', '--to', '3'], /--to must not lie before from/],
    [['import'], /import needs --in FILE/],
    [['import', '--in', '-'], /--in must name a file, not -/],
  ])('answers bad usage %j with exit code 2 and a message', async (args, message) => {
    const run = await projector(source, ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('fails with exit code 1 and a message when there is nothing to read or nowhere to write', async () => {
    const empty = freshDir();
    rmSync(empty, { recursive: true });
    expect(await projector(empty, 'export', '--out', join(work, 'nothing.ndjson'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/^no event store at .*events\.sqlite/) });
    expect(await projector(source, 'export', '--out', join(work, 'no-such-dir', 'x.ndjson'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/^cannot write .*x\.ndjson: ENOENT/) });
    expect(await projector(freshDir(), 'import', '--in', join(work, 'missing.ndjson'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/^no file at /) });
  });

  it('answers --help for each command', async () => {
    const help = await projector(source, 'export', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run projector -- export --out FILE/);
    expect((await projector(source, 'import', '--help')).stdout).toMatch(/refuses a store that holds any event/);
  });
});
