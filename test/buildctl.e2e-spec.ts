import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { COMMANDS } from '../apps/buildctl/src/commands';
import { AppsUnderTest, http } from './support/apps';

/** The installed command: bin/buildctl.js, which runs the compiled CLI from dist/. */
const BIN = join(__dirname, '..', 'bin', 'buildctl.js');
const UNKNOWN_ID = '01a21b76-39e8-7c1d-993f-50fcf8127bdd';

type Run = { code: number | null; stdout: string; stderr: string };

describe('buildctl against the started apps', () => {
  const apps = new AppsUnderTest();
  const scratch = mkdtempSync(join(tmpdir(), 'buildctl-'));
  const org = `ctl${Date.now().toString(36)}`;
  let env: Record<string, string>;

  /** buildctl as a child process with only the environment given (no BUILDCTL_* leaks in from outside). */
  const start = (args: string[], extra: Record<string, string> = {}) =>
    spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });

  const buildctl = (args: string[], extra: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = start(args, extra);
      const out = { stdout: '', stderr: '' };
      child.stdout.on('data', (chunk) => (out.stdout += chunk));
      child.stderr.on('data', (chunk) => (out.stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, ...out }));
    });

  const submitArgs = (repo: string) => ['submit', '--org', org, '--repo', repo, '--git-url', 'https://git.example.com/acme/hello.git', '--ref', 'main', '--priority', '7'];

  /** Waits (through the projector's own read-your-writes) until the read models include a position. */
  const projected = async (buildId: string, position: number) => {
    const response = await http('GET', `${apps.projector.url}/builds/${buildId}?minPosition=${position}`);
    expect(response.status).toBe(200);
    return response.body;
  };

  let queued: { buildId: string; status: string; position: number };

  beforeAll(async () => {
    await apps.start({ EXECUTOR_ENABLED: 'false' });
    env = { BUILDCTL_ORCHESTRATOR_URL: apps.orchestrator.url, BUILDCTL_PROJECTOR_URL: apps.projector.url, BUILDCTL_TOKEN: apps.credentials.builder };
  });
  afterAll(async () => {
    await apps.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  describe('submit, list, show, cancel', () => {
    it('submit queues a build and prints the response with --json', async () => {
      const run = await buildctl([...submitArgs('hello'), '--json']);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      queued = JSON.parse(run.stdout);
      expect(queued).toEqual({ buildId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'queued', position: expect.any(Number) });
      const view = await projected(queued.buildId, queued.position);
      expect(view).toMatchObject({ org, repo: 'hello', priority: 7, source: { git: { ref: 'main' } } });
    });

    it('submit prints the id and position in human form', async () => {
      const run = await buildctl(submitArgs('second'));
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^[0-9a-f-]{36} queued \(position \d+\)\n$/);
    });

    it('builds list prints a table of the org\'s builds', async () => {
      const last = await buildctl(['builds', 'list', '--org', org, '--json']);
      const newest = JSON.parse(last.stdout).items[0];
      await projected(newest.buildId, newest.lastPosition);
      const run = await buildctl(['builds', 'list', '--org', org]);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      const [header, ...rows] = run.stdout.trimEnd().split('\n');
      expect(header).toMatch(/^BUILD\s+ORG\/REPO\s+STATUS\s+ATTEMPT\s+BACKEND\s+FAILURE\s+QUEUED \(UTC\)\s+UPDATED \(UTC\)$/);
      expect(rows).toHaveLength(2);
      expect(rows.find((row) => row.startsWith(queued.buildId))).toMatch(new RegExp(`^${queued.buildId}\\s+${org}/hello\\s+queued\\s+1\\s+-\\s+-\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ`));
    });

    it('builds list --json prints what GET /builds answers, and pages with --limit and --all', async () => {
      const direct = await http('GET', `${apps.projector.url}/builds?org=${org}`, undefined, { authorization: `Bearer ${apps.credentials.builder}` });
      const run = await buildctl(['builds', 'list', '--org', org, '--json']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual(direct.body);
      const firstPage = await buildctl(['builds', 'list', '--org', org, '--limit', '1']);
      expect(firstPage.stdout.trimEnd().split('\n')).toHaveLength(2);
      expect(firstPage.stderr).toMatch(/^more: --cursor \S+ \(or --all\)\n$/);
      const all = await buildctl(['builds', 'list', '--org', org, '--limit', '1', '--all', '--json']);
      expect(JSON.parse(all.stdout)).toEqual({ items: direct.body.items, nextCursor: null });
    });

    it('builds show prints the status view and the history timeline', async () => {
      const run = await buildctl(['builds', 'show', queued.buildId]);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(new RegExp(`^build:\\s+${queued.buildId}$`, 'm'));
      expect(run.stdout).toMatch(/^status:\s+queued$/m);
      expect(run.stdout).toMatch(/^priority:\s+7$/m);
      expect(run.stdout).toMatch(/^history:\nPOSITION\s+TIME \(UTC\)\s+EVENT\s+ACTOR\s+DETAILS$/m);
      expect(run.stdout).toMatch(new RegExp(`^\\s*${queued.position}\\s+\\S+ \\S+Z\\s+BuildQueued\\s+e2e-builder\\s`, 'm'));
      const json = JSON.parse((await buildctl(['builds', 'show', queued.buildId, '--json'])).stdout);
      expect(json.build).toMatchObject({ buildId: queued.buildId, status: 'queued' });
      expect(json.history.events.map((event: { type: string }) => event.type)).toEqual(['BuildQueued']);
    });

    it('builds cancel cancels, and a second cancel is refused with exit 5', async () => {
      const run = await buildctl(['builds', 'cancel', queued.buildId, '--reason', 'buildctl e2e']);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(new RegExp(`^${queued.buildId} canceled at position \\d+\\n$`));
      const again = await buildctl(['builds', 'cancel', queued.buildId]);
      expect(again.code).toBe(5);
      expect(again.stderr).toMatch(/^buildctl: .+ \(HTTP 409\)/);
      expect(again.stdout).toBe('');
    });

    it('submit --follow streams until the build ends and exits 1 when it did not push', async () => {
      const child = start([...submitArgs('followed'), '--follow']);
      const lines: string[] = [];
      const firstLine = new Promise<string>((resolve) => createInterface({ input: child.stdout }).on('line', (line) => (lines.push(line), lines.length === 1 && resolve(line))));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const buildId = (await firstLine).split(' ')[0];
      const canceled = await http('POST', `${apps.orchestrator.url}/builds/${buildId}/cancel`, { reason: 'end the follow' });
      expect(canceled.status).toBe(202);
      expect(await exited).toBe(1);
      expect(lines[lines.length - 1]).toBe(`build ${buildId}: canceled`);
    });

    it('builds logs --follow --json prints the server-sent events as NDJSON', async () => {
      const run = await buildctl(['builds', 'logs', queued.buildId, '--follow', '--json']);
      expect(run.code).toBe(1);
      const events = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
      expect(events[events.length - 1]).toEqual({ event: 'end', data: JSON.stringify({ status: 'canceled' }), id: null });
    });
  });

  describe('exit codes', () => {
    it('an unknown build is exit 4 with the problem on stderr', async () => {
      const run = await buildctl(['builds', 'show', UNKNOWN_ID]);
      expect(run.code).toBe(4);
      expect(run.stderr).toMatch(/\(HTTP 404\)/);
      expect(run.stdout).toBe('');
    });

    it('a malformed id is the service\'s 400, exit 2, naming the field', async () => {
      const run = await buildctl(['builds', 'cancel', 'not-a-uuid']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^ {2}buildId: must be a lower-case UUID$/m);
    });

    it('a bad token is exit 3, and the token appears nowhere in the output', async () => {
      const token = 'bo.e2e-builder.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      const run = await buildctl(['builds', 'list'], { BUILDCTL_TOKEN: token });
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/\(HTTP 401\)/);
      expect(run.stderr + run.stdout).not.toContain('AAAAAAAAAAAAAAAA');
    });

    it('a role without the permission is exit 3 (403)', async () => {
      const run = await buildctl(['incidents', 'list']);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/\(HTTP 403\)/);
    });

    it.each([
      [['builds', 'list', '--bogus'], /Unknown option '--bogus'/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['submit', '--org', 'acme'], /--repo is required/],
      [['submit', '--org', 'acme', '--repo', 'r', '--git-url', '/x', '--priority', 'high'], /--priority must be an integer from 0 to 9/],
    ])('a usage error (%j) is exit 2 with the usage on stderr', async (args, message) => {
      const run = await buildctl(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toMatch(/^usage: buildctl /m);
      expect(run.stdout).toBe('');
    });

    it('no token is a usage error, exit 2', async () => {
      const run = await buildctl(['builds', 'list'], { BUILDCTL_TOKEN: '' });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/no API token/);
    });

    it('a service that cannot be reached is exit 6', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));
      const run = await buildctl(['builds', 'list', '--projector', `http://127.0.0.1:${port}`]);
      expect(run.code).toBe(6);
      expect(run.stderr).toBe(`buildctl: cannot reach the projector at http://127.0.0.1:${port}: ECONNREFUSED\n`);
    });
  });

  it('--help works on every command, every group and "buildctl help"', async () => {
    const runs = await Promise.all([
      ...COMMANDS.map((command) => buildctl([...command.path, '--help'], { BUILDCTL_TOKEN: '' }).then((run) => [command.path, run] as const)),
      ...[['--help'], ['help'], ['builds', '--help'], ['incidents', '--help'], ['audit', '--help'], ['projections', '--help']].map((path) =>
        buildctl(path, { BUILDCTL_TOKEN: '' }).then((run) => [path, run] as const)),
    ]);
    for (const [path, run] of runs) {
      expect({ path, code: run.code, stderr: run.stderr }).toEqual({ path, code: 0, stderr: '' });
      expect(run.stdout).toMatch(/^usage: buildctl /);
      expect(run.stdout).toContain('BUILDCTL_TOKEN');
      expect(run.stdout).toContain('exit codes:');
    }
  });

  describe('incidents', () => {
    it('incidents list is empty on a quiet installation, as a table and as JSON', async () => {
      const sre = { BUILDCTL_TOKEN: apps.credentials.sre };
      expect(await buildctl(['incidents', 'list'], sre)).toEqual({ code: 0, stdout: '(no incidents)\n', stderr: '' });
      const json = await buildctl(['incidents', 'list', '--status', 'open', '--json'], sre);
      expect(JSON.parse(json.stdout)).toEqual({ items: [], nextCursor: null });
      expect((await buildctl(['incidents', 'postmortem', UNKNOWN_ID], sre)).code).toBe(4);
    });
  });

  describe('audit export', () => {
    const auditor = () => ({ BUILDCTL_TOKEN: apps.credentials.auditor });

    it('writes exactly what GET /audit/events sends', async () => {
      const file = join(scratch, 'log.ndjson');
      const run = await buildctl(['audit', 'export', '--out', file], auditor());
      const direct = await http('GET', `${apps.projector.url}/audit/events`, undefined, { authorization: `Bearer ${apps.credentials.auditor}` });
      const lines = direct.text.trimEnd().split('\n');
      const summary = `exported ${lines.length} events (${Buffer.byteLength(direct.text)} bytes) to ${file}; last position ${JSON.parse(lines[lines.length - 1]).globalPosition}, head ${direct.headers.get('x-head-position')}\n`;
      expect(run).toEqual({ code: 0, stdout: '', stderr: summary });
      expect(readFileSync(file, 'utf8')).toBe(direct.text);
    });

    it('leaves an existing file as it was when the service refuses (exit 3)', async () => {
      const file = join(scratch, 'kept.ndjson');
      writeFileSync(file, 'an earlier export\n');
      const run = await buildctl(['audit', 'export', '--out', file], { BUILDCTL_TOKEN: 'bo.nobody.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
      expect(run.code).toBe(3);
      expect(readFileSync(file, 'utf8')).toBe('an earlier export\n');
    });

    it('--resume continues after the last complete line of an interrupted file', async () => {
      const resumed = `${org}r`;
      const first = await http('POST', `${apps.orchestrator.url}/builds`, { org: resumed, repo: 'one', source: { git: { url: '/src/one' } } });
      await http('POST', `${apps.orchestrator.url}/builds/${first.body.buildId}/cancel`, {});
      await http('POST', `${apps.orchestrator.url}/builds`, { org: resumed, repo: 'two', source: { git: { url: '/src/two' } } });
      const whole = (await http('GET', `${apps.projector.url}/audit/events?org=${resumed}`, undefined, { authorization: `Bearer ${apps.credentials.auditor}` })).text;
      const lines = whole.split('\n');
      const file = join(scratch, 'resumed.ndjson');
      writeFileSync(file, `${lines.slice(0, 2).join('\n')}\n${lines[2].slice(0, 20)}`);
      const run = await buildctl(['audit', 'export', '--out', file, '--org', resumed, '--resume', '--json'], auditor());
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ events: lines.filter((line) => line !== '').length - 2, complete: true });
      expect(readFileSync(file, 'utf8')).toBe(whole);
    });
  });

  it('projections verify delegates to the projector CLI on the machine\'s stores and passes its exit code through', async () => {
    const run = await buildctl(['projections', 'verify', 'build-status'], { BUILDCTL_TOKEN: '', DATA_DIR: apps.dataDir });
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/^verify: the read models equal a replay of the log$/m);
    const unknown = await buildctl(['projections', 'verify', 'no-such-projection'], { DATA_DIR: apps.dataDir });
    expect(unknown.code).toBe(2);
  });
});
