import { AnyProjection, Projection } from '../../projections/projection';
import { GenerationMovedError, GenerationTarget, ProjectionChanges, PromotionBehindError, ReadStore } from '../read-store.port';
import { liveRows, ReadStoreFixture, useFixture } from '../testing/read-store-fixtures';

/**
 * The behaviour every read-store adapter must have (STYLE.md rule 15), on a projection of its own
 * with every column type. Each test opens fresh locations; "another process" is another store
 * instance on the same location.
 */

type Note = { id: string; author: string | null; size: number; score: number | null; text: string };

const notes = (version = 1): Projection<Note> => ({
  name: 'notes',
  version,
  filter: { streamPrefixes: ['note-'], eventTypes: ['NoteWritten'] },
  storage: {
    table: 'notes',
    columns: { author: 'TEXT', size: 'INTEGER', score: 'REAL' },
    indexes: [['author', 'size'], ['size']],
    toColumns: (note) => ({ author: note.author, size: note.size, score: note.score }),
  },
  documentIds: () => [],
  evolve: (doc) => doc,
});
const NOTES = notes();

const note = (id: string, size: number, author: string | null = 'ann', score: number | null = size / 2): Note => ({ id, author, size, score, text: `note ${id} «ü» "quoted" \\ ${size}` });

type Written = Note | { id: string; deleted: true };
const changesOf = (target: GenerationTarget, checkpoint: number, docs: readonly Written[]): ProjectionChanges => ({
  ...target,
  checkpoint,
  documents: new Map(docs.map((doc): [string, { doc: Note | null; lastPosition: number }] => [doc.id, { doc: 'deleted' in doc ? null : doc, lastPosition: checkpoint }])),
});

const AT = '2026-11-16T09:00:00.000Z';

export const describeReadStoreConformance = (fixture: ReadStoreFixture): void => {
  describe(`ReadStore conformance: ${fixture.name}`, () => {
    useFixture(fixture);
    const opened: ReadStore[] = [];
    const open = async (location: string): Promise<ReadStore> => {
      const store = await fixture.open(location);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    /** A fresh location with NOTES prepared in it: the store, its live target and the location. */
    const prepared = async (projection: AnyProjection = NOTES) => {
      const location = fixture.freshLocation();
      const store = await open(location);
      const [record] = await store.prepare([projection]);
      const live: GenerationTarget = { projection, generation: record.generation, state: 'live' };
      return { location, store, live, record };
    };

    describe('generations and checkpoints', () => {
      it('prepares a live generation at position 0, and finds it again (with its checkpoint) when prepared anew', async () => {
        const { location, store, live, record } = await prepared();
        expect(record).toMatchObject({ name: 'notes', version: 1, state: 'live', position: 0, updatedAt: null });
        await store.commit([changesOf(live, 7, [note('a', 1)])], AT);
        const again = await open(location);
        expect(await again.prepare([NOTES])).toEqual([{ ...record, position: 7, updatedAt: AT }]);
        expect(await again.checkpoints()).toEqual([{ ...record, position: 7, updatedAt: AT }]);
        expect(await again.get(NOTES, 'a')).toEqual(note('a', 1));
      });

      it('commits documents and checkpoint together, all or nothing', async () => {
        const { store, live } = await prepared();
        await store.commit([changesOf(live, 3, [note('a', 1), note('b', 2)])], AT);
        const failing: AnyProjection = { ...NOTES, storage: { ...NOTES.storage, toColumns: (doc: Note) => {
          if (doc.id === 'd') throw new Error('toColumns failed');
          return NOTES.storage.toColumns(doc);
        } } };
        const changes = changesOf({ ...live, projection: failing }, 9, [note('c', 3), { id: 'a', deleted: true }, note('d', 4)]);
        await expect(store.commit([changes], AT)).rejects.toThrow('toColumns failed');
        expect(await store.checkpoints()).toMatchObject([{ position: 3 }]);
        expect([await store.get(NOTES, 'a'), await store.get(NOTES, 'c')]).toEqual([note('a', 1), null]);
      });

      it('deletes a document committed as null, and never moves a checkpoint backwards', async () => {
        const { store, live } = await prepared();
        await store.commit([changesOf(live, 10, [note('a', 1), note('b', 2)])], AT);
        await store.commit([changesOf(live, 4, [{ id: 'a', deleted: true }])], AT);
        expect(await store.get(NOTES, 'a')).toBeNull();
        expect((await store.loadMany(live, ['a', 'b', 'zz'])).get('b')).toEqual({ doc: note('b', 2), lastPosition: 10 });
        expect(await store.checkpoints()).toMatchObject([{ position: 10 }]);
      });

      it('keeps each document byte for byte as JSON.stringify wrote it', async () => {
        const { location, store, live } = await prepared();
        const doc = { ...note('a', 1), nested: { z: 1, a: [3, 2, 1] }, emoji: '🚀', zero: 0, nothing: null };
        await store.commit([changesOf(live, 1, [doc])], AT);
        const { rows } = await liveRows(fixture, location, NOTES);
        expect(rows).toEqual([{ id: 'a', doc: JSON.stringify(doc), lastPosition: 1, columns: { author: 'ann', size: 1, score: 0.5 } }]);
      });

      it('given another version of the projection, starts a new live generation at 0 and drops the old one', async () => {
        const { location, store, live, record } = await prepared();
        await store.commit([changesOf(live, 5, [note('a', 1)])], AT);
        const v2 = await open(location);
        const [next] = await v2.prepare([notes(2)]);
        expect(next).toMatchObject({ version: 2, state: 'live', position: 0 });
        expect(next.generation).toBeGreaterThan(record.generation);
        expect(await v2.get(notes(2), 'a')).toBeNull();
        await expect(store.commit([changesOf(live, 6, [note('b', 1)])], AT)).rejects.toBeInstanceOf(GenerationMovedError);
        await expect(store.loadMany(live, ['a'])).rejects.toBeInstanceOf(GenerationMovedError);
      });

      it('refuses a table name that would clash with generations', async () => {
        const store = await open(fixture.freshLocation());
        const clash: AnyProjection = { ...NOTES, storage: { ...NOTES.storage, table: 'notes_g2' } };
        await expect(store.prepare([clash])).rejects.toThrow('projection notes: table name notes_g2 is reserved');
      });
    });

    describe('rebuilds: a new generation beside the live one, then one switch', () => {
      it('serves the live generation while the new one fills, then switches readers and checkpoint at once', async () => {
        // Given a live generation with two notes at position 4
        const { location, store, live, record } = await prepared();
        await store.commit([changesOf(live, 4, [note('a', 1), note('b', 2)])], AT);

        // When a rebuild (another process) fills a new generation to position 6
        const rebuild = await open(location);
        const [building] = await rebuild.startRebuild([NOTES]);
        expect(building).toMatchObject({ state: 'building', position: 0, version: 1 });
        const target: GenerationTarget = { projection: NOTES, generation: building.generation, state: 'building' };
        await rebuild.commit([changesOf(target, 6, [note('a', 10), note('c', 30)])], AT);

        // Then readers still see the live generation, and both generations are listed
        expect(await store.get(NOTES, 'a')).toEqual(note('a', 1));
        expect((await store.list(NOTES, { equals: {}, orderBy: 'size', limit: 10 })).map((n) => (n as Note).id)).toEqual(['b', 'a']);
        expect((await store.generations()).map((g) => [g.generation, g.state, g.position])).toEqual([[record.generation, 'live', 4], [building.generation, 'building', 6]]);

        // And the new generation fills without its secondary indexes, which the switch builds
        expect(await fixture.indexesOf(location, NOTES, record.generation)).toEqual([`notes_g${record.generation}_author_size`, `notes_g${record.generation}_size`]);
        expect(await fixture.indexesOf(location, NOTES, building.generation)).toEqual([]);

        // When it is promoted
        expect(await rebuild.promote([{ projection: NOTES, generation: building.generation }])).toEqual([{ ...building, state: 'live', position: 6, updatedAt: AT }]);

        // Then readers see the new generation, its checkpoint is the live one, the old writer is refused
        expect(await store.get(NOTES, 'a')).toEqual(note('a', 10));
        expect(await store.get(NOTES, 'b')).toBeNull();
        expect(await store.checkpoints()).toEqual([{ ...building, state: 'live', position: 6, updatedAt: AT }]);
        const stale = store.commit([changesOf(live, 8, [note('d', 4)])], AT);
        await expect(stale).rejects.toBeInstanceOf(GenerationMovedError);
        await expect(stale).rejects.toThrow(`notes generation ${record.generation} is retired, not live`);
        await expect(store.loadMany(live, ['a'])).rejects.toBeInstanceOf(GenerationMovedError);
        expect(await store.get(NOTES, 'd')).toBeNull();
        expect((await store.generations()).map((g) => [g.generation, g.state])).toEqual([[building.generation, 'live']]);
        expect(await fixture.indexesOf(location, NOTES, building.generation)).toEqual([`notes_g${building.generation}_author_size`, `notes_g${building.generation}_size`]);
      });

      it('refuses to switch readers to a generation behind the live checkpoint, and switches nothing', async () => {
        const { location, store, live, record } = await prepared();
        await store.commit([changesOf(live, 8, [note('a', 1)])], AT);
        const rebuild = await open(location);
        const [building] = await rebuild.startRebuild([NOTES]);
        const target: GenerationTarget = { projection: NOTES, generation: building.generation, state: 'building' };
        await rebuild.commit([changesOf(target, 5, [note('a', 10)])], AT);
        const behind = rebuild.promote([{ projection: NOTES, generation: building.generation }]);
        await expect(behind).rejects.toBeInstanceOf(PromotionBehindError);
        await expect(behind).rejects.toThrow(`cannot switch yet: notes generation ${building.generation} is at 5, the live one at 8`);
        expect((await store.generations()).map((g) => [g.generation, g.state, g.position])).toEqual([[record.generation, 'live', 8], [building.generation, 'building', 5]]);
        expect(await store.get(NOTES, 'a')).toEqual(note('a', 1));
        await rebuild.commit([changesOf(target, 8, [])], AT);
        expect(await rebuild.promote([{ projection: NOTES, generation: building.generation }])).toMatchObject([{ state: 'live', position: 8 }]);
      });

      it('a second rebuild replaces an unfinished first one, whose writer and promote are then refused', async () => {
        const { location, store } = await prepared();
        const first = await open(location);
        const [abandoned] = await first.startRebuild([NOTES]);
        const [second] = await store.startRebuild([NOTES]);
        expect(second.generation).toBeGreaterThan(abandoned.generation);
        const target: GenerationTarget = { projection: NOTES, generation: abandoned.generation, state: 'building' };
        await expect(first.commit([changesOf(target, 1, [note('a', 1)])], AT)).rejects.toThrow(`notes generation ${abandoned.generation} is discarded, not building`);
        await expect(first.promote([{ projection: NOTES, generation: abandoned.generation }])).rejects.toThrow(`cannot make generation ${abandoned.generation} of notes live: it is discarded, not building`);
        expect((await store.generations()).map((g) => g.state)).toEqual(['live', 'building']);
      });

      it('discards a rebuild that will not finish, leaves the live generation alone, and never reuses its number', async () => {
        const { store, live, record } = await prepared();
        await store.commit([changesOf(live, 2, [note('a', 1)])], AT);
        const [building] = await store.startRebuild([NOTES]);
        await store.discard([building]);
        expect(await store.generations()).toEqual([{ ...record, position: 2, updatedAt: AT }]);
        expect(await store.get(NOTES, 'a')).toEqual(note('a', 1));
        const [next] = await store.startRebuild([NOTES]);
        expect(next.generation).toBeGreaterThan(building.generation);
      });
    });

    describe('lists', () => {
      const listed = async (store: ReadStore, query: Parameters<ReadStore['list']>[1]) => ((await store.list(NOTES, query)) as Note[]).map((n) => n.id);
      const withNotes = async () => {
        const { store, live } = await prepared();
        await store.commit([changesOf(live, 1, [
          note('n1', 1, 'ann', 0.5), note('n2', 2, 'bob', null), note('n3', 3, 'ann', 1.5), note('n4', 4, null, 2.5), note('n5', 5, 'bob', 2.5),
        ])], AT);
        return store;
      };

      it('filters on equal values (one or several), newest first by default, with a limit', async () => {
        const store = await withNotes();
        expect(await listed(store, { equals: { author: 'ann' }, orderBy: 'size', limit: 10 })).toEqual(['n3', 'n1']);
        expect(await listed(store, { equals: { author: ['ann', 'bob'] }, orderBy: 'size', limit: 3 })).toEqual(['n5', 'n3', 'n2']);
        expect(await listed(store, { equals: { author: ['nobody'] }, orderBy: 'size', limit: 3 })).toEqual([]);
      });

      it('filters on any of a list of values together with other filters, and matches nothing for an empty list', async () => {
        const store = await withNotes();
        expect(await listed(store, { equals: { author: ['bob', 'ann', 'nobody'], size: [1, 2, 5] }, orderBy: 'size', ascending: true, limit: 10 })).toEqual(['n1', 'n2', 'n5']);
        expect(await listed(store, { equals: { author: ['ann', 'bob'] }, ranges: { size: { from: 2 } }, orderBy: 'size', before: 5, limit: 10 })).toEqual(['n3', 'n2']);
        expect(await listed(store, { equals: { author: [] }, orderBy: 'size', limit: 10 })).toEqual([]);
        expect(await listed(store, { equals: { author: [], size: 1 }, orderBy: 'size', limit: 10 })).toEqual([]);
      });

      it('filters on inclusive ranges, ascending or descending, and pages with before', async () => {
        const store = await withNotes();
        expect(await listed(store, { equals: {}, ranges: { size: { from: 2, to: 4 } }, orderBy: 'size', ascending: true, limit: 10 })).toEqual(['n2', 'n3', 'n4']);
        expect(await listed(store, { equals: {}, ranges: { size: { from: 4 } }, orderBy: 'size', limit: 10 })).toEqual(['n5', 'n4']);
        expect(await listed(store, { equals: {}, orderBy: 'size', before: 4, limit: 2 })).toEqual(['n3', 'n2']);
        expect(await listed(store, { equals: {}, orderBy: 'size', ascending: true, before: 3, limit: 10 })).toEqual(['n4', 'n5']);
        expect(await listed(store, { equals: { author: 'bob' }, ranges: { score: { to: 2.5 } }, orderBy: 'size', limit: 10 })).toEqual(['n5']);
      });

      it('sorts missing values (NULL) first ascending and last descending', async () => {
        const store = await withNotes();
        expect(await listed(store, { equals: {}, orderBy: 'author', ascending: true, limit: 1 })).toEqual(['n4']);
        const descending = await listed(store, { equals: {}, orderBy: 'author', limit: 10 });
        expect(descending[descending.length - 1]).toBe('n4');
        expect(await listed(store, { equals: {}, orderBy: 'score', ascending: true, limit: 1 })).toEqual(['n2']);
      });
    });

    describe('snapshots', () => {
      it('page through the live rows in id order and do not see commits made after they were taken', async () => {
        const { store, live } = await prepared();
        const ids = ['b', 'a', 'B', 'a-1', 'a_1', 'é', 'z'];
        await store.commit([changesOf(live, 3, ids.map((id, i) => note(id, i)))], AT);
        const snapshot = await store.snapshot();
        try {
          await store.commit([changesOf(live, 9, [note('c', 9), { id: 'z', deleted: true }])], AT);
          const first = await snapshot.rows(NOTES, null, 4);
          const rest = await snapshot.rows(NOTES, first[first.length - 1].id, 10);
          expect([...first, ...rest].map((row) => row.id)).toEqual([...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
          expect(snapshot.checkpoints).toMatchObject([{ name: 'notes', position: 3 }]);
        } finally {
          await snapshot.release();
        }
        expect(await store.get(NOTES, 'c')).toEqual(note('c', 9));
      });
    });

    describe('catch-up mode', () => {
      it('keeps everything committed in catch-up mode once live again, for another store on the same location', async () => {
        const { location, store, live } = await prepared();
        await store.setCatchingUp(true);
        await store.commit([changesOf(live, 11, [note('a', 1)])], AT);
        await store.setCatchingUp(false);
        await store.close();
        const reopened = await open(location);
        expect(await reopened.prepare([NOTES])).toMatchObject([{ position: 11 }]);
        expect(await reopened.get(NOTES, 'a')).toEqual(note('a', 1));
      });
    });
  });
};
