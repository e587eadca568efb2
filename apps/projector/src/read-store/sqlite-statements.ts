import { Database, Statement } from 'better-sqlite3';

/** One connection's prepared statements, each prepared the first time its SQL is asked for. */
export class PreparedStatements {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  get(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
