import { fieldDifferences, formatFieldDifference, rowDifferences } from './document-diff';

const row = (doc: object | string, columns: Record<string, string | number | null> = {}, lastPosition = 5) => ({
  id: 'b-1',
  doc: typeof doc === 'string' ? doc : JSON.stringify(doc),
  lastPosition,
  columns,
});

describe('differences between a live document and its replay', () => {
  it('given equal documents, finds none', () => {
    const doc = { status: 'pushed', timestamps: { queuedAt: 'x' }, fallbacks: [{ to: 'b' }] };
    expect(fieldDifferences(doc, structuredClone(doc))).toEqual([]);
    expect(rowDifferences(row(doc, { status: 'pushed' }), row(doc, { status: 'pushed' }))).toEqual([]);
  });

  it('names each differing leaf by its path, nested fields and array items alike, and absent fields as undefined', () => {
    const live = { status: 'failed', timestamps: { queuedAt: 'a', pushedAt: null }, fallbacks: [{ to: 'b' }], extra: 1 };
    const rebuilt = { status: 'pushed', timestamps: { queuedAt: 'a', pushedAt: 't' }, fallbacks: [{ to: 'c' }, { to: 'd' }] };
    expect(fieldDifferences(live, rebuilt)).toEqual([
      { path: 'status', live: 'failed', rebuilt: 'pushed' },
      { path: 'timestamps.pushedAt', live: null, rebuilt: 't' },
      { path: 'fallbacks[0].to', live: 'b', rebuilt: 'c' },
      { path: 'fallbacks[1]', live: undefined, rebuilt: { to: 'd' } },
      { path: 'extra', live: 1, rebuilt: undefined },
    ]);
  });

  it('compares query columns and last positions too, and a serialization that differs only in key order', () => {
    expect(rowDifferences(row({ a: 1, b: 2 }, { status: 'failed' }, 7), row({ b: 2, a: 1 }, { status: 'pushed' }, 5))).toEqual([
      { path: '(serialization)', live: '{"a":1,"b":2}', rebuilt: '{"b":2,"a":1}' },
      { path: 'column status', live: 'failed', rebuilt: 'pushed' },
      { path: 'last position', live: 7, rebuilt: 5 },
    ]);
  });

  it('compares a stored text that is not JSON as text', () => {
    expect(rowDifferences(row('{broken'), row({ a: 1 }))).toEqual([{ path: '(document)', live: '{broken', rebuilt: { a: 1 } }]);
  });

  it('shows values as JSON, absent ones as such, long ones cut', () => {
    expect(formatFieldDifference({ path: 'status', live: 'failed', rebuilt: undefined })).toBe('  status: live "failed", rebuilt (absent)');
    expect(formatFieldDifference({ path: 'log', live: 'x'.repeat(500), rebuilt: null })).toBe(`  log: live "${'x'.repeat(199)}…, rebuilt null`);
  });
});
