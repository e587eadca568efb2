import BetterSqlite3 from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { buildStatusProjection } from '../projections/build-status.projection';
import { describeReadStoreConformance } from './conformance/read-store.conformance';
import { SqliteReadStore } from './sqlite-read-store';
import { catchingUpSqliteFixture, readStoreFixtures } from './testing/read-store-fixtures';

describeReadStoreConformance(readStoreFixtures().find((fixture) => fixture.name === 'SQLite')!);
// The same behaviour with every commit made by the writer thread, as in a long rebuild.
describeReadStoreConformance(catchingUpSqliteFixture());

describe('SQLite read store: catch-up mode and its crash markers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'read-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const markers = (path: string) => readdirSync(dirname(path)).filter((name) => name.startsWith(`${basename(path)}.catching-up`));

  const storeWithOneCheckpoint = async (path: string) => {
    const store = new SqliteReadStore({ path });
    const [live] = await store.prepare([buildStatusProjection]);
    await store.commit([{ projection: buildStatusProjection, generation: live.generation, state: 'live', documents: new Map(), checkpoint: 42 }], '2026-11-16T09:00:00.000Z');
    return store;
  };
  const checkpointAfterReopen = async (path: string) => {
    const reopened = new SqliteReadStore({ path });
    const [record] = await reopened.prepare([buildStatusProjection]);
    await reopened.close();
    return record.position;
  };
  /** The pid of a process that has exited. */
  const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;

  it('given catch-up mode, writes a marker naming this process and boot, and removes it once live again', async () => {
    const path = join(dir, `rm-${++files}.sqlite`);
    const store = await storeWithOneCheckpoint(path);
    await store.setCatchingUp(true);
    const [marker] = markers(path);
    expect(marker).toMatch(new RegExp(`\\.catching-up\\.${process.pid}-[0-9a-f]+$`));
    expect(readFileSync(join(dir, marker), 'utf8').trim()).toBe(bootId);
    await store.setCatchingUp(false);
    expect(markers(path)).toEqual([]);
    await store.close();
    expect(await checkpointAfterReopen(path)).toBe(42);
  });

  it('given a marker from this boot whose process is gone (only the process died), keeps the file and drops the marker', async () => {
    const path = join(dir, `rm-${++files}.sqlite`);
    await (await storeWithOneCheckpoint(path)).close();
    writeFileSync(`${path}.catching-up.${deadPid()}-0badc0de`, `${bootId}\n`);
    expect(await checkpointAfterReopen(path)).toBe(42);
    expect(markers(path)).toEqual([]);
  });

  it('given a marker of a process still catching up (a rebuild beside the projector), keeps both', async () => {
    const path = join(dir, `rm-${++files}.sqlite`);
    const rebuilding = await storeWithOneCheckpoint(path);
    await rebuilding.setCatchingUp(true);
    const [marker] = markers(path);
    expect(await checkpointAfterReopen(path)).toBe(42);
    expect(markers(path)).toEqual([marker]);
    await rebuilding.setCatchingUp(false);
    await rebuilding.close();
  });

  it('given a marker from an earlier boot (the OS may have crashed), starts from an empty file', async () => {
    const path = join(dir, `rm-${++files}.sqlite`);
    await (await storeWithOneCheckpoint(path)).close();
    writeFileSync(`${path}.catching-up.${deadPid()}-0badc0de`, 'a-boot-id-from-before-a-crash\n');
    expect(await checkpointAfterReopen(path)).toBe(0);
    expect(markers(path)).toEqual([]);
  });

  it('given a file of the layout before generations, starts from an empty file', async () => {
    const path = join(dir, `rm-${++files}.sqlite`);
    const db = new BetterSqlite3(path);
    db.exec("CREATE TABLE projection_checkpoints (name TEXT PRIMARY KEY, version INTEGER, position INTEGER, updated_at TEXT); INSERT INTO projection_checkpoints VALUES ('build-status', 1, 99, NULL); CREATE TABLE build_status (id TEXT PRIMARY KEY, doc TEXT)");
    db.close();
    expect(await checkpointAfterReopen(path)).toBe(0);
    expect(existsSync(path)).toBe(true);
  });
});
