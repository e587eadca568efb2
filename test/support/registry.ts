import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

export type TestRegistry = { addr: string; url: string; keyPath: string; certPath: string; service: string; stop: () => Promise<void> };

const SERVICE = 'build-orchestrator-test-registry';

/**
 * A private docker-registry for one test run: its own storage, its own token signing key, and its
 * token realm at the orchestrator the test starts on `realmPort`. Needs Debian's docker-registry
 * (scripts/services.sh up installs it).
 */
export const startRegistry = async (realmPort: number): Promise<TestRegistry> => {
  const dir = mkdtempSync(join(tmpdir(), 'registry-'));
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-subj', '/CN=test token signer', '-keyout', keyPath, '-out', certPath], { stdio: 'ignore' });
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  writeFileSync(join(dir, 'config.yml'), [
    'version: 0.1',
    'log: { level: warn, accesslog: { disabled: true } }',
    `storage: { filesystem: { rootdirectory: ${dir}/data }, delete: { enabled: true } }`,
    `http: { addr: "${addr}" }`,
    `auth: { token: { realm: "http://127.0.0.1:${realmPort}/registry/token", service: ${SERVICE}, issuer: build-orchestrator, rootcertbundle: ${certPath} } }`,
  ].join('\n'));
  let child: ChildProcess;
  try {
    child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new Error(`cannot start docker-registry (run scripts/services.sh up first): ${(error as Error).message}`);
  }
  const output: string[] = [];
  child.stderr!.on('data', (chunk) => output.push(String(chunk)));
  await waitUntilAnswering(`http://${addr}/v2/`, child, output);
  return {
    addr,
    url: `http://${addr}`,
    keyPath,
    certPath,
    service: SERVICE,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
};

/** Polls the registry's /v2/ until it answers 401 (its token challenge); fails if the process exits. */
const waitUntilAnswering = async (url: string, child: ChildProcess, output: string[]): Promise<void> => {
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`docker-registry exited (${code}): ${output.join('')} — run scripts/services.sh up`))),
  );
  exited.catch(() => undefined);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const status = await Promise.race([fetch(url).then((r) => r.status, () => 0), exited]);
    if (status === 401) return;
    // Readiness of an external process can only be polled; this is not a wait for a test result.
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`docker-registry did not answer on ${url}`);
};
