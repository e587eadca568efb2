import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildLogStore } from '../logs/build-log.store';
import { AccessKeys } from './access-keys';

describe('per-attempt registry keys and log seals: a lost attempt never disturbs its retry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'access-keys-'));
  const keys = new AccessKeys(join(dir, 'credentials.sqlite'));
  const now = new Date('2026-11-16T09:00:00.000Z');
  const grant = { buildId: 'b1', account: 'acme', repository: 'acme/web' };

  afterAll(() => {
    keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('given keys of attempts 1 and 2, when attempt 1 ends and revokes its key, then attempt 2 keeps pushing', () => {
    const first = keys.issue({ ...grant, attempt: 1 }, now, 60);
    const second = keys.issue({ ...grant, attempt: 2 }, now, 60);
    expect(first.username).not.toBe(second.username);
    keys.revoke('b1', now, 1);
    expect(keys.verify(first.username, first.password, now)).toBeNull();
    expect(keys.verify(second.username, second.password, now)).toEqual({ account: 'acme', repository: 'acme/web' });
  });

  it('given keys of several attempts, when the build is revoked as a whole, then none is valid', () => {
    const keysOf = [3, 4].map((attempt) => keys.issue({ ...grant, buildId: 'b2', attempt }, now, 60));
    keys.revoke('b2', now);
    for (const key of keysOf) expect(keys.verify(key.username, key.password, now)).toBeNull();
  });

  it('given attempt 2 sealed its log, when the lost attempt 1 seals late, then the log stays sealed at attempt 2', () => {
    const logs = new BuildLogStore(join(dir, 'logs'), 4096);
    logs.seal('b1', 2);
    logs.seal('b1', 1);
    expect(logs.sealedAttempt('b1')).toBe(2);
    logs.seal('b1', 3);
    expect(logs.sealedAttempt('b1')).toBe(3);
  });
});
