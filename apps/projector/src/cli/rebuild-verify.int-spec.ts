import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { BuildEvent, buildStream } from '@lib/domain';
import { buildImageBuilt, buildPushed, buildPushStarted, buildQueued, buildRef, buildStarted } from '@lib/domain/testing/build.fixtures';
import { SqliteEventStore } from '@lib/event-store';
import { buildStatusProjection } from '../projections/build-status.projection';
import { PROJECTIONS } from '../projector.providers';
import { readStoreFixtures, TEST_READ_STORE_URL, useFixture } from '../read-store/testing/read-store-fixtures';

/**
 * `npm run projector -- rebuild|verify` as operators run it: the compiled CLI (dist/, built by jest's
 * globalSetup) as a real process on a real log, against each read store.
 */

const ROOT = join(__dirname, '..', '..', '..', '..');
const CLI = join(ROOT, 'dist/apps/projector/src/cli.js');
const BUILDS = 12;
const CLI_LIMIT_MS = 30_000;

type Exit = { code: number | null; stdout: string; stderr: string };

const cli = (env: Record<string, string | undefined>, ...args: string[]): Promise<Exit> =>
  new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete childEnv[name];
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // A guard against a hung command, not a wait: the test never depends on it firing.
    const guard = setTimeout(() => child.kill('SIGKILL'), CLI_LIMIT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });

/** Builds queued, started, built and pushed, one after another; returns the head. */
const writeLog = async (path: string): Promise<number> => {
  const store = new SqliteEventStore({ path, synchronous: 'NORMAL' });
  try {
    let n = 0;
    const metadata = () => {
      n += 1;
      return { eventId: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, occurredAt: new Date(Date.UTC(2026, 10, 16, 9) + n * 1000).toISOString() };
    };
    for (let i = 0; i < BUILDS; i++) {
      const ref = buildRef({ buildId: `build-${String(i).padStart(3, '0')}`, org: `org-${i % 3}` });
      const events: BuildEvent[] = [buildQueued, buildStarted, buildImageBuilt, buildPushStarted, buildPushed].map((make) => make(ref, metadata()));
      await store.append(buildStream(ref.buildId), events);
    }
    return await store.headPosition();
  } finally {
    await store.close();
  }
};

/** verify's scratch schemas beside the one `location` names. */
const scratchSchemasOf = async (location: string): Promise<string[]> => {
  const client = new Client({ connectionString: TEST_READ_STORE_URL });
  await client.connect();
  try {
    const schema = new URL(location).searchParams.get('schema');
    return (await client.query('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`${schema}_verify_%`])).rows.map((row) => row.nspname);
  } finally {
    await client.end();
  }
};

describe.each(readStoreFixtures())('projector CLI: rebuild and verify ($name)', (fixture) => {
  useFixture(fixture);
  const dataDir = mkdtempSync(join(tmpdir(), 'projector-cli-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  // SQLite: the file under DATA_DIR, as the apps have it; PostgreSQL: a fresh schema named by READ_STORE_URL.
  const postgres = fixture.name === 'PostgreSQL';
  const location = postgres ? fixture.freshLocation() : join(dataDir, 'read-models.sqlite');
  const env = { DATA_DIR: dataDir, READ_STORE_URL: postgres ? location : undefined, PROJECTOR_BATCH_SIZE: '7' };
  let head: number;
  beforeAll(async () => {
    head = await writeLog(join(dataDir, 'events.sqlite'));
  });

  it('given unknown projection names, exits 2 naming the known ones, and changes nothing', async () => {
    const exit = await cli(env, 'rebuild', 'build-status', 'no-such-view');
    expect(exit.code).toBe(2);
    expect(exit.stderr.trim()).toBe(`unknown projection(s) no-such-view; known projections: ${PROJECTIONS.map((p) => p.name).join(', ')}`);
    expect((await cli(env, 'verify', '--all')).code).toBe(2);
  });

  it('rebuilds every projection from position 0, with plain progress lines off a terminal, and switches to the new generation', async () => {
    const first = await cli(env, 'rebuild');
    expect({ code: first.code, stdout: first.stdout }).toEqual({
      code: 0,
      stdout: expect.stringContaining(`build-status: generation 1 (version ${buildStatusProjection.version}) is live at position ${head}\n`),
    });
    expect(first.stdout.split('\n').filter((line) => / is live at position /.test(line))).toHaveLength(PROJECTIONS.length);
    expect(first.stderr).toMatch(new RegExp(`^rebuild: ${head}/${head} events \\(100%\\), [\\d,]+ events/s, ETA 0s$`, 'm'));
    expect(first.stderr).not.toContain('\r');

    const second = await cli(env, 'rebuild', 'build-status');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`build-status: generation 2 (version ${buildStatusProjection.version}) is live at position ${head}\n`);
    expect(second.stdout).not.toContain('route');
  });

  it('verifies equal read models (exit 0), then reports every tampered document field by field (exit 1), and leaves no scratch store', async () => {
    const equal = await cli(env, 'verify');
    expect(equal.stdout).toContain(`build-status: equal (${BUILDS} documents at position ${head})\n`);
    expect(equal.stdout).toContain('verify: the read models equal a replay of the log\n');
    expect(equal.code).toBe(0);

    // When one document is changed behind the projector's back and another removed
    await fixture.onLiveTable(location, buildStatusProjection,
      `UPDATE {table} SET doc = replace(doc, '"status":"pushed"', '"status":"failed"'), status = 'failed' WHERE id = 'build-003'`);
    await fixture.onLiveTable(location, buildStatusProjection, "DELETE FROM {table} WHERE id = 'build-007'");

    // Then verify prints each difference and exits 1
    const differs = await cli(env, 'verify', 'build-status');
    expect(differs.code).toBe(1);
    expect(differs.stdout).toContain([
      'build-status build-003: differs',
      '  status: live "failed", rebuilt "pushed"',
      '  column status: live "failed", rebuilt "pushed"',
      'build-status build-007: missing from the live read model',
      `build-status: 2 differences (${BUILDS} documents at position ${head})`,
    ].join('\n'));
    expect(differs.stdout).toContain('verify: 2 differences between the read models and a replay of the log\n');

    // And a rebuild repairs them
    expect((await cli(env, 'rebuild', 'build-status')).code).toBe(0);
    expect((await cli(env, 'verify')).code).toBe(0);
    expect(readdirSync(dataDir).filter((name) => name.startsWith('.verify-'))).toEqual([]);
    if (postgres) expect(await scratchSchemasOf(location)).toEqual([]);
  });
});
