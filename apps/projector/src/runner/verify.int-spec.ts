import { buildStatusProjection } from '../projections/build-status.projection';
import { ReadStore } from '../read-store/read-store.port';
import { readStoreFixtures, useFixture } from '../read-store/testing/read-store-fixtures';
import { append, buildEvents, RunnerEnv, setup, VERSION, WAIT_MS } from './testing/runner-fixtures';
import { verify } from './verify';

describe.each(readStoreFixtures())('verify: the live read models against a replay of the log ($name)', (fixture) => {
  useFixture(fixture);
  let env: RunnerEnv;
  let scratch: ReadStore;
  beforeEach(async () => {
    env = setup(fixture);
    scratch = await fixture.open(fixture.freshLocation());
  });
  afterEach(async () => {
    await scratch.close();
    await env.teardown();
  });

  const verifyLive = async (onProgress?: () => void) => {
    const lines: string[] = [];
    const live = await env.readStore();
    const result = await verify(env.store, live, scratch, [buildStatusProjection], (line) => lines.push(line), { batchSize: 4, pageSize: 3, onProgress });
    return { result, lines };
  };

  it('finds them equal while the live runner keeps projecting new events, comparing as of one snapshot', async () => {
    // Given a live runner caught up over 10 builds
    const head = await append(env.store, buildEvents(1, 10));
    const live = await env.open();
    expect(await live.waitFor(head, WAIT_MS)).toBe(true);

    // When verify replays the log while more builds are appended and projected
    const appends: Promise<number>[] = [];
    const { result, lines } = await verifyLive(() => {
      if (appends.length < 3) appends.push(append(env.store, buildEvents(11 + appends.length, 1)));
    });
    const later = Math.max(...(await Promise.all(appends)));
    expect(await live.waitFor(later, WAIT_MS)).toBe(true);

    // Then it compared every document as of the checkpoint of its snapshot, and found no difference
    expect(result).toEqual({ differences: 0, projections: [{ name: buildStatusProjection.name, position: head, documents: 10, differences: 0 }] });
    expect(lines).toEqual([`build-status: equal (10 documents at position ${head})`]);
  });

  it('reports a changed field, a missing and an extra document, each once', async () => {
    const head = await append(env.store, buildEvents(1, 6));
    const live = await env.open();
    expect(await live.waitFor(head, WAIT_MS)).toBe(true);
    await env.close(live);
    await fixture.onLiveTable(env.location, buildStatusProjection, "UPDATE {table} SET doc = replace(doc, '\"org\":\"org-1\"', '\"org\":\"org-x\"') WHERE id = 'build-0001'");
    await fixture.onLiveTable(env.location, buildStatusProjection, "DELETE FROM {table} WHERE id = 'build-0004'");
    await fixture.onLiveTable(env.location, buildStatusProjection, "INSERT INTO {table} (id, doc, last_position) VALUES ('build-0099', '{}', 1)");

    const { result, lines } = await verifyLive();

    expect(result.differences).toBe(3);
    expect(lines).toEqual([
      'build-status build-0001: differs\n  org: live "org-x", rebuilt "org-1"',
      'build-status build-0004: missing from the live read model',
      'build-status build-0099: only in the live read model (a replay of the log has no such document)',
      `build-status: 3 differences (7 documents at position ${head})`,
    ]);
  });

  it('reports a projection that is not live yet, or live under another version', async () => {
    const notLive = await verifyLive();
    expect(notLive.lines).toEqual(['build-status: not in the live read store (has the projector run it?)']);
    expect(notLive.result.differences).toBe(1);

    const head = await append(env.store, buildEvents(1, 2));
    const other = await env.open([{ ...buildStatusProjection, version: VERSION + 1 }]);
    expect(await other.waitFor(head, WAIT_MS)).toBe(true);
    const { lines } = await verifyLive();
    expect(lines).toEqual([`build-status: live at version ${VERSION + 1}, but this code has version ${VERSION}`]);
  });
});
