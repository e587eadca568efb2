import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { accessDecider, AccessCommand, principalStream, Role } from '@lib/domain';
import { SqliteEventStore } from '@lib/event-store';
import { generateApiToken, handleCommand } from '@lib/shared';

/**
 * Every e2e test runs authenticated. Before the first app starts on a data directory, the test
 * principals below are written into its event store through the real access decider (as an admin
 * would through the API; the admin API itself is tested in test/access.e2e-spec.ts), each with a
 * fresh token. Apps started on that directory then take the tokens; `http` sends the app's default
 * token (see apps.ts) unless a test sends its own Authorization header.
 */
export const TEST_PRINCIPALS = {
  /** Queues, cancels and retries builds of every org. */
  builder: { id: 'e2e-builder', role: 'builder', orgs: ['*'] },
  /** Drains routes, writes on incidents, reads everything. */
  sre: { id: 'e2e-sre', role: 'sre', orgs: [] },
  /** Reads everything. */
  auditor: { id: 'e2e-auditor', role: 'auditor', orgs: [] },
  /** Manages principals and tokens. */
  admin: { id: 'e2e-admin', role: 'admin', orgs: [] },
} as const satisfies Record<string, { id: string; role: Role; orgs: readonly string[] }>;

export type TestRole = keyof typeof TEST_PRINCIPALS;
export type Credentials = Readonly<Record<TestRole, string>>;

const SEEDER = 'cli:e2e-setup';

const metadata = (n: number) => ({
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  actor: SEEDER,
  correlationId: `e2e-credentials-${n}`,
  causationId: `e2e-credentials-${n}`,
});

/** Creates the test principals (if missing) in the SQLite event store of `dataDir` and issues a token to each. */
const seed = async (dataDir: string): Promise<Credentials> => {
  const store = new SqliteEventStore({ path: join(dataDir, 'events.sqlite') });
  try {
    const tokens: Partial<Record<TestRole, string>> = {};
    for (const [role, principal] of Object.entries(TEST_PRINCIPALS) as [TestRole, (typeof TEST_PRINCIPALS)[TestRole]][]) {
      const stream = principalStream(principal.id);
      const existing = await store.readStream(stream, { maxCount: 1 });
      if (existing.length === 0) {
        const create: AccessCommand = { type: 'CreatePrincipal', data: { principalId: principal.id, role: principal.role, orgs: principal.orgs, description: 'e2e tests' }, metadata: metadata(1) };
        await handleCommand(store, accessDecider, stream, create);
      }
      const issued = generateApiToken(principal.id);
      const issue: AccessCommand = { type: 'IssueApiToken', data: { principalId: principal.id, tokenId: issued.tokenId, hash: issued.hash, label: 'e2e', expiresAt: null }, metadata: metadata(2) };
      await handleCommand(store, accessDecider, stream, issue);
      tokens[role] = issued.token;
    }
    return tokens as Credentials;
  } finally {
    await store.close();
  }
};

/**
 * The test credentials of a data directory, seeded once per directory and test file. An installation
 * backed by EventStoreDB is not seeded here (none runs in these tests).
 */
export class CredentialsRegistry {
  private readonly byDataDir = new Map<string, Promise<Credentials>>();

  of(dataDir: string): Promise<Credentials> {
    let credentials = this.byDataDir.get(dataDir);
    if (!credentials) this.byDataDir.set(dataDir, (credentials = seed(dataDir)));
    return credentials;
  }
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
