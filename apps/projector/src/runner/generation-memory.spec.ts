import { GenerationMemory } from './generation-memory';

describe('GenerationMemory: what a rebuild knows of the generation it fills', () => {
  const written = (...entries: [string, unknown | null, number][]) => new Map(entries.map(([id, doc, lastPosition]) => [id, { doc, lastPosition }]));

  it('knows a document it never wrote is absent, and one it wrote is what it wrote', () => {
    const memory = new GenerationMemory(10);
    memory.remember(written(['a', { n: 1 }, 3]));
    expect(memory.recall('never')).toBeNull();
    expect(memory.recall('a')).toEqual({ doc: { n: 1 }, lastPosition: 3 });
  });

  it('knows a deleted document is absent', () => {
    const memory = new GenerationMemory(10);
    memory.remember(written(['a', { n: 1 }, 3]));
    memory.remember(written(['a', null, 4]));
    expect(memory.recall('a')).toBeNull();
  });

  it('keeps at least the last `limit` documents written, and says so (undefined) when it forgot one it wrote', () => {
    // Given a memory of 2, when four documents are written one by one
    const memory = new GenerationMemory(2);
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) memory.remember(written([id, { id }, i + 1]));
    // Then the oldest are forgotten (to be read back from the store), the newest remembered
    expect(memory.recall('a')).toBeUndefined();
    expect(memory.recall('b')).toBeUndefined();
    expect(memory.recall('c')).toEqual({ doc: { id: 'c' }, lastPosition: 3 });
    expect(memory.recall('d')).toEqual({ doc: { id: 'd' }, lastPosition: 4 });
    // And a document written again is remembered again, with its newest value
    memory.remember(written(['a', { id: 'a', again: true }, 5]));
    expect(memory.recall('a')).toEqual({ doc: { id: 'a', again: true }, lastPosition: 5 });
  });
});
