import { ColumnValue } from '../projections/projection';
import { Dialect } from './ddl';
import { quoted } from './generation-tables';
import { ListQuery } from './read-store.port';

/**
 * The SQL of `ReadStore.list` over a projection's view, for either adapter. Both answer alike:
 * PostgreSQL is told to sort NULLs as SQLite does (first ascending, last descending), and its
 * indexes are built in that order (postgres-read-store.ts).
 */
export const listSql = (view: string, query: ListQuery, dialect: Dialect): { sql: string; params: (ColumnValue | readonly ColumnValue[])[] } => {
  const params: (ColumnValue | readonly ColumnValue[])[] = [];
  const param = (value: ColumnValue | readonly ColumnValue[]): string => {
    params.push(value);
    return dialect === 'postgres' ? `$${params.length}` : '?';
  };
  const where: string[] = [];
  for (const [column, value] of Object.entries(query.equals)) {
    const values: readonly ColumnValue[] = Array.isArray(value) ? value : [value];
    // Any of no values: nothing matches (an org scope of no orgs, say), as `IN ()` would say were it SQL.
    if (values.length === 0) where.push('1 = 0');
    else if (values.length === 1) where.push(`${quoted(column)} = ${param(values[0])}`);
    else if (dialect === 'postgres') where.push(`${quoted(column)} = ANY(${param(values)})`);
    else where.push(`${quoted(column)} IN (${values.map((v) => param(v)).join(', ')})`);
  }
  for (const [column, { from, to }] of Object.entries(query.ranges ?? {})) {
    if (from !== undefined && from !== null) where.push(`${quoted(column)} >= ${param(from)}`);
    if (to !== undefined && to !== null) where.push(`${quoted(column)} <= ${param(to)}`);
  }
  if (query.before !== undefined) where.push(`${quoted(query.orderBy)} ${query.ascending ? '>' : '<'} ${param(query.before)}`);
  const order = dialect === 'postgres' ? (query.ascending ? 'ASC NULLS FIRST' : 'DESC NULLS LAST') : query.ascending ? 'ASC' : 'DESC';
  const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT doc FROM ${view}${filter} ORDER BY ${quoted(query.orderBy)} ${order} LIMIT ${param(query.limit)}`, params };
};
