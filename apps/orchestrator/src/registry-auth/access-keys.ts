import BetterSqlite3, { Database } from 'better-sqlite3';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { KeyGrant } from './registry-scope';

export type IssuedKey = Readonly<{ username: string; password: string; expiresAt: string }>;

type KeyRow = { username: string; key_hash: Buffer; account: string; repository: string; expires_at: string; revoked_at: string | null };

const hash = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/**
 * Ephemeral registry access keys, one per build attempt, scoped to the build's target repository.
 * Only a SHA-256 of each key is stored (shared by every orchestrator process on the data directory);
 * the key itself exists only in the memory of the process that runs the build.
 */
export class AccessKeys {
  private readonly db: Database;

  constructor(path: string) {
    this.db = new BetterSqlite3(path);
    this.db.pragma('busy_timeout = 10000'); // before WAL: another process may be switching the file too
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS registry_access_keys (
      username TEXT PRIMARY KEY, key_hash BLOB NOT NULL, build_id TEXT NOT NULL, account TEXT NOT NULL,
      repository TEXT NOT NULL, issued_at TEXT NOT NULL, expires_at TEXT NOT NULL, revoked_at TEXT)`);
  }

  /** With `attempt`, the key belongs to that attempt alone (revoking it leaves the build's other attempts alone). */
  issue(grant: KeyGrant & { buildId: string; attempt?: number }, now: Date, ttlSeconds: number): IssuedKey {
    const username = usernameOf(grant.buildId, grant.attempt);
    const password = `bok_${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
    this.db
      .prepare(`INSERT OR REPLACE INTO registry_access_keys (username, key_hash, build_id, account, repository, issued_at, expires_at, revoked_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`)
      .run(username, hash(password), grant.buildId, grant.account, grant.repository, now.toISOString(), expiresAt);
    return { username, password, expiresAt };
  }

  /** The grant of a valid key, or null for an unknown, wrong, expired or revoked one. */
  verify(username: string, password: string, now: Date): KeyGrant | null {
    const row = this.db.prepare('SELECT * FROM registry_access_keys WHERE username = ?').get(username) as KeyRow | undefined;
    if (!row || row.revoked_at !== null || Date.parse(row.expires_at) <= now.getTime()) return null;
    if (!timingSafeEqual(row.key_hash, hash(password))) return null;
    return { account: row.account, repository: row.repository };
  }

  /** Revokes the key of one attempt, or with no attempt every key of the build. */
  revoke(buildId: string, now: Date, attempt?: number): void {
    if (attempt === undefined) {
      this.db.prepare('UPDATE registry_access_keys SET revoked_at = ? WHERE build_id = ? AND revoked_at IS NULL').run(now.toISOString(), buildId);
    } else {
      this.db.prepare('UPDATE registry_access_keys SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL').run(now.toISOString(), usernameOf(buildId, attempt));
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

const usernameOf = (buildId: string, attempt?: number): string => (attempt === undefined ? `build-${buildId}` : `build-${buildId}-${attempt}`);
