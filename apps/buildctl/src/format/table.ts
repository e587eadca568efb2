/** A column of a human table: its header, how to read a cell, and at most how wide it may be. */
export type Column<Row> = Readonly<{ header: string; cell: (row: Row) => string | number | null | undefined; max?: number; align?: 'left' | 'right' }>;

const ELLIPSIS = '…';

/** Cuts a value to `max` characters, marking the cut; control characters become spaces so rows stay rows. */
export const truncate = (value: string, max: number): string => {
  const flat = value.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}${ELLIPSIS}`;
};

/** An ISO-8601 time as `2026-11-16 09:30:00Z` (UTC, to the second); null as `-`. */
export const utc = (iso: string | null | undefined): string => {
  if (!iso) return '-';
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : `${time.toISOString().slice(0, 19).replace('T', ' ')}Z`;
};

/** Seconds as `1h 02m 03s`, `4m 05s` or `6s`; null as `-`. */
export const duration = (seconds: number | null | undefined): string => {
  if (seconds === null || seconds === undefined) return '-';
  const whole = Math.round(seconds);
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${two(m)}m ${two(s)}s` : m > 0 ? `${m}m ${two(s)}s` : `${s}s`;
};

const text = (value: string | number | null | undefined): string => (value === null || value === undefined || value === '' ? '-' : String(value));

/** Rows aligned under their headers, two spaces apart, no trailing spaces. An empty table says so. */
export const renderTable = <Row>(columns: readonly Column<Row>[], rows: readonly Row[], empty = '(none)'): string => {
  if (rows.length === 0) return empty;
  const cells = rows.map((row) => columns.map((column) => truncate(text(column.cell(row)), column.max ?? 60)));
  const widths = columns.map((column, index) => Math.max(column.header.length, ...cells.map((row) => row[index].length)));
  const line = (values: readonly string[]) =>
    values
      .map((value, index) => (columns[index].align === 'right' ? value.padStart(widths[index]) : value.padEnd(widths[index])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...cells.map(line)].join('\n');
};

/** `key: value` lines with the keys aligned, for one document. */
export const renderFields = (fields: readonly (readonly [string, string | number | null | undefined])[]): string => {
  const width = Math.max(...fields.map(([key]) => key.length));
  return fields.map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${text(value)}`).join('\n');
};
