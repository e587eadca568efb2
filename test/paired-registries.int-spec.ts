import { createHash, randomUUID, sign, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { freePort, startRegistry, TestRegistry } from './support/registry';

/**
 * Two routes to one registry namespace: startRegistry(…, { sharing }) serves the same storage with
 * the same token key. Needs only docker-registry and openssl (scripts/services.sh up installs them).
 */
describe('paired registries (a second route to the same storage)', () => {
  describe('given a registry A and a registry B sharing it', () => {
    let a: TestRegistry;
    let b: TestRegistry;

    beforeAll(async () => {
      const realmPort = await freePort(); // no token endpoint runs there: the tests sign their own tokens
      a = await startRegistry(realmPort);
      b = await startRegistry(realmPort, { sharing: a });
    });
    afterAll(async () => {
      await b?.stop();
      await a?.stop();
    });

    it('when /v2/ is asked without a token, then both challenge for the same service', async () => {
      for (const registry of [a, b]) {
        const response = await fetch(`${registry.url}/v2/`);
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toContain(`service="${a.service}"`);
      }
      expect(b.addr).not.toBe(a.addr);
      expect([b.service, b.keyPath, b.certPath]).toEqual([a.service, a.keyPath, a.certPath]);
    });

    it('when their configurations are read, then both point at the same storage root', () => {
      const rootOf = (registry: TestRegistry) => /rootdirectory: ([^ }]+)/.exec(readFileSync(registry.configPath, 'utf8'))?.[1];
      expect(rootOf(a)).toBe(a.dataDir);
      expect(rootOf(b)).toBe(a.dataDir);
      expect(b.configPath).not.toBe(a.configPath);
    });

    it('when a blob is uploaded through A, then B has it and A does not have an unknown one', async () => {
      const blob = Buffer.from(`probe ${randomUUID()}`);
      const digest = await uploadBlob(a, a, blob);
      expect(await headBlob(b, digest)).toBe(200);
      expect(await headBlob(a, digestOf(Buffer.from('never uploaded')))).toBe(404);
    });

    it('when an upload begun on B is finished on A, then both have the blob', async () => {
      const digest = await uploadBlob(b, a, Buffer.from(`across routes ${randomUUID()}`));
      expect([await headBlob(a, digest), await headBlob(b, digest)]).toEqual([200, 200]);
    });
  });

  describe('given a registry and a route sharing it, stopped in either order', () => {
    it('when the route stops first, then the owner still serves the storage, and removes it when it stops', async () => {
      const owner = await startRegistry(await freePort());
      const route = await startRegistry(await freePort(), { sharing: owner });
      const digest = await uploadBlob(route, route, Buffer.from('kept'));
      await route.stop();
      expect(existsSync(route.configPath)).toBe(false);
      expect(await headBlob(owner, digest)).toBe(200);
      await owner.stop();
      expect(existsSync(owner.dataDir)).toBe(false);
    });

    it('when the owner stops first, then stopping the route still succeeds and leaves nothing behind', async () => {
      const owner = await startRegistry(await freePort());
      const route = await startRegistry(await freePort(), { sharing: owner });
      await owner.stop();
      await expect(route.stop()).resolves.toBeUndefined();
      expect([existsSync(owner.dataDir), existsSync(route.configPath)]).toEqual([false, false]);
      await expect(route.stop()).resolves.toBeUndefined(); // stopping twice is harmless too
    });
  });
});

// ---------------------------------------------------------------- registry HTTP API with a self-signed token

const digestOf = (blob: Buffer): string => `sha256:${createHash('sha256').update(blob).digest('hex')}`;

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An RS256 JWT signed with the registry's token key, its certificate in x5c, granting push and pull on acme/probe. */
const tokenFor = (registry: TestRegistry): string => {
  const certificate = new X509Certificate(readFileSync(registry.certPath)).raw.toString('base64');
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', x5c: [certificate] };
  const claims = {
    iss: 'build-orchestrator', aud: registry.service, sub: 'paired-registries-test',
    exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(),
    access: [{ type: 'repository', name: 'acme/probe', actions: ['push', 'pull'] }],
  };
  const signingInput = `${base64url(header)}.${base64url(claims)}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), readFileSync(registry.keyPath)).toString('base64url')}`;
};

const authorized = (registry: TestRegistry) => ({ authorization: `Bearer ${tokenFor(registry)}` });

/** Begins a monolithic blob upload on `begin` and finishes it on `finish` (the same registry or a route to it). */
const uploadBlob = async (begin: TestRegistry, finish: TestRegistry, blob: Buffer): Promise<string> => {
  const started = await fetch(`${begin.url}/v2/acme/probe/blobs/uploads/`, { method: 'POST', headers: authorized(begin) });
  expect(started.status).toBe(202);
  const location = new URL(started.headers.get('location')!, begin.url);
  const target = new URL(location.pathname + location.search, finish.url);
  const digest = digestOf(blob);
  target.searchParams.set('digest', digest);
  const put = await fetch(target, { method: 'PUT', headers: { ...authorized(finish), 'content-type': 'application/octet-stream' }, body: blob });
  expect({ status: put.status, body: await put.text() }).toEqual({ status: 201, body: '' });
  return digest;
};

const headBlob = async (registry: TestRegistry, digest: string): Promise<number> =>
  (await fetch(`${registry.url}/v2/acme/probe/blobs/${digest}`, { method: 'HEAD', headers: authorized(registry) })).status;
