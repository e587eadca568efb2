import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStatusProjection } from '../projections/build-status.projection';
import { SqliteReadStore } from './sqlite-read-store';

describe('SQLite read store: catch-up mode and its crash marker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'read-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;

  const storeWithOneCheckpoint = async (path: string) => {
    const store = new SqliteReadStore({ path });
    await store.prepare([buildStatusProjection]);
    await store.commit([{ projection: buildStatusProjection, documents: new Map(), checkpoint: 42 }], '2026-11-16T09:00:00.000Z');
    return store;
  };
  const checkpointAfterReopen = async (path: string) => {
    const reopened = new SqliteReadStore({ path });
    await reopened.prepare([buildStatusProjection]);
    const [record] = await reopened.checkpoints();
    await reopened.close();
    return record.position;
  };

  it('given catch-up mode, writes a marker with this boot id and removes it once live again', async () => {
    const path = join(dir, `rm-${++files}.sqlite`);
    const store = await storeWithOneCheckpoint(path);
    await store.setCatchingUp(true);
    expect(readFileSync(`${path}.catching-up`, 'utf8').trim()).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    await store.setCatchingUp(false);
    expect(existsSync(`${path}.catching-up`)).toBe(false);
    await store.close();
    expect(await checkpointAfterReopen(path)).toBe(42);
  });

  it('given a marker from this boot (only the process died), keeps the file', async () => {
    const path = join(dir, `rm-${++files}.sqlite`);
    const store = await storeWithOneCheckpoint(path);
    await store.setCatchingUp(true);
    await store.close(); // as if killed: the marker stays
    expect(await checkpointAfterReopen(path)).toBe(42);
    expect(existsSync(`${path}.catching-up`)).toBe(false);
  });

  it('given a marker from an earlier boot (the OS may have crashed), starts from an empty file', async () => {
    const path = join(dir, `rm-${++files}.sqlite`);
    const store = await storeWithOneCheckpoint(path);
    await store.close();
    writeFileSync(`${path}.catching-up`, 'a-boot-id-from-before-a-crash\n');
    expect(await checkpointAfterReopen(path)).toBe(0);
  });
});
