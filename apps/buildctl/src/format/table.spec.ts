import { duration, renderFields, renderTable, truncate, utc } from './table';

type Row = { id: string; count: number | null; note: string };
const columns = [
  { header: 'ID', cell: (row: Row) => row.id },
  { header: 'COUNT', cell: (row: Row) => row.count, align: 'right' as const },
  { header: 'NOTE', cell: (row: Row) => row.note, max: 10 },
];

describe('renderTable', () => {
  it('aligns columns under their headers, right-aligns numbers, shows null as - and trims line ends', () => {
    expect(renderTable(columns, [{ id: 'a', count: 12, note: 'short' }, { id: 'longer-id', count: null, note: '' }])).toBe(
      ['ID         COUNT  NOTE', 'a             12  short', 'longer-id      -  -'].join('\n'),
    );
  });

  it('truncates long cells to the column\'s maximum with an ellipsis', () => {
    expect(renderTable(columns, [{ id: 'a', count: 1, note: 'a rather long note' }]).split('\n')[1]).toBe('a       1  a rather …');
  });

  it('says so when there are no rows', () => {
    expect(renderTable(columns, [], '(no builds)')).toBe('(no builds)');
  });
});

describe('cells', () => {
  it('flattens control characters so that a row stays one line', () => {
    expect(truncate('line one\nline two\ttab', 40)).toBe('line one line two tab');
  });

  it('prints times in UTC to the second', () => {
    expect(utc('2026-11-16T10:30:00.250+01:00')).toBe('2026-11-16 09:30:00Z');
    expect(utc(null)).toBe('-');
  });

  it('prints durations compactly', () => {
    expect([duration(6), duration(245), duration(3723), duration(null)]).toEqual(['6s', '4m 05s', '1h 02m 03s', '-']);
  });

  it('aligns key: value fields', () => {
    expect(renderFields([['status', 'pushed'], ['registry endpoint', null]])).toBe('status:            pushed\nregistry endpoint: -');
  });
});
