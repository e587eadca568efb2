import { DocumentRow } from '../read-store/read-store.port';

/** One field that differs; `undefined` is a field that is absent on that side. */
export type FieldDifference = Readonly<{ path: string; live: unknown; rebuilt: unknown }>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const child = (path: string, key: string | number): string => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

/** The leaves (object fields and array items, at any depth) in which two JSON values differ. */
export const fieldDifferences = (live: unknown, rebuilt: unknown, path = ''): FieldDifference[] => {
  if (isObject(live) && isObject(rebuilt)) {
    const keys = [...new Set([...Object.keys(live), ...Object.keys(rebuilt)])];
    return keys.flatMap((key) => fieldDifferences(live[key], rebuilt[key], child(path, key)));
  }
  if (Array.isArray(live) && Array.isArray(rebuilt)) {
    return Array.from({ length: Math.max(live.length, rebuilt.length) }, (_, i) => fieldDifferences(live[i], rebuilt[i], child(path, i))).flat();
  }
  return same(live, rebuilt) ? [] : [{ path: path || '(document)', live, rebuilt }];
};

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text; // not JSON: compared as text
  }
};

/**
 * How a live row differs from the rebuilt one: its document's fields, its query columns and the
 * position it last absorbed. Documents must be equal byte for byte; when only the serialization
 * differs (key order, say), that is the difference shown.
 */
export const rowDifferences = (live: DocumentRow, rebuilt: DocumentRow): FieldDifference[] => {
  const fields = fieldDifferences(parsed(live.doc), parsed(rebuilt.doc));
  if (fields.length === 0 && live.doc !== rebuilt.doc) fields.push({ path: '(serialization)', live: live.doc, rebuilt: rebuilt.doc });
  const columns = Object.keys({ ...live.columns, ...rebuilt.columns })
    .filter((column) => !same(live.columns[column], rebuilt.columns[column]))
    .map((column) => ({ path: `column ${column}`, live: live.columns[column], rebuilt: rebuilt.columns[column] }));
  const position = live.lastPosition === rebuilt.lastPosition ? [] : [{ path: 'last position', live: live.lastPosition, rebuilt: rebuilt.lastPosition }];
  return [...fields, ...columns, ...position];
};

const SHOWN_LENGTH = 200;
const show = (value: unknown): string => {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH)}…` : text;
};

export const formatFieldDifference = ({ path, live, rebuilt }: FieldDifference): string => `  ${path}: live ${show(live)}, rebuilt ${show(rebuilt)}`;
