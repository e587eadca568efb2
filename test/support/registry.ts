import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

export type TestRegistry = {
  addr: string;
  url: string;
  keyPath: string;
  certPath: string;
  service: string;
  /** This registry's docker-registry configuration file. */
  configPath: string;
  /** Its storage root (shared with the registries started with `{ sharing }`). */
  dataDir: string;
  stop: () => Promise<void>;
};

export type RegistryOptions = {
  /** Serve the storage of this registry, trusting its token certificate: a second route to the same namespace. */
  sharing?: TestRegistry;
};

const SERVICE = 'build-orchestrator-test-registry';
const ISSUER = 'build-orchestrator';

/**
 * A private docker-registry for one test run: its own storage, its own token signing key, and its
 * token realm at the orchestrator the test starts on `realmPort`. With `{ sharing }`, it serves the
 * storage of another test registry instead and trusts the same key and service: only the registry
 * that made the storage deletes it, when it stops, and the two may be stopped in either order.
 * Needs Debian's docker-registry and openssl (scripts/services.sh up installs them).
 */
export const startRegistry = async (realmPort: number, options: RegistryOptions = {}): Promise<TestRegistry> => {
  const { sharing } = options;
  const dir = mkdtempSync(join(tmpdir(), sharing ? 'registry-route-' : 'registry-'));
  const keyPath = sharing?.keyPath ?? join(dir, 'token.key');
  const certPath = sharing?.certPath ?? join(dir, 'token.crt');
  if (!sharing) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-subj', '/CN=test token signer', '-keyout', keyPath, '-out', certPath], { stdio: 'ignore' });
  }
  const addr = `127.0.0.1:${await freePort()}`;
  const dataDir = sharing?.dataDir ?? join(dir, 'data');
  const configPath = join(dir, 'config.yml');
  writeFileSync(configPath, registryConfig({ addr, realmPort, dataDir, keyPath, certPath, service: sharing?.service ?? SERVICE }));
  const child = await startRegistryProcess(configPath, `http://${addr}/v2/`).catch((error: Error) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    addr,
    url: `http://${addr}`,
    keyPath,
    certPath,
    service: sharing?.service ?? SERVICE,
    configPath,
    dataDir,
    // A route's own directory holds only its configuration; the shared storage stays with its owner.
    stop: async () => {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

type ConfigInputs = { addr: string; realmPort: number; dataDir: string; keyPath: string; certPath: string; service: string };

const registryConfig = ({ addr, realmPort, dataDir, keyPath, certPath, service }: ConfigInputs): string =>
  [
    'version: 0.1',
    'log: { level: warn, accesslog: { disabled: true } }',
    `storage: { filesystem: { rootdirectory: ${dataDir} }, delete: { enabled: true } }`,
    // Upload URLs carry state signed with http.secret: registries that share storage need the same
    // secret for an upload begun on one route to finish on another. Derived from the shared key.
    `http: { addr: "${addr}", secret: ${createHash('sha256').update(readFileSync(keyPath)).digest('hex')} }`,
    `auth: { token: { realm: "http://127.0.0.1:${realmPort}/registry/token", service: ${service}, issuer: ${ISSUER}, rootcertbundle: ${certPath} } }`,
  ].join('\n');

/** Starts docker-registry and resolves once it answers; on failure, the process is stopped. */
const startRegistryProcess = async (configPath: string, probeUrl: string): Promise<ChildProcess> => {
  const child = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  const output: string[] = [];
  child.stderr!.on('data', (chunk) => output.push(String(chunk)));
  try {
    await waitUntilAnswering(probeUrl, child, output);
    return child;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
};

/** Stops the process; resolves at once if it has already exited. */
const stopProcess = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

/** Polls the registry's /v2/ until it answers 401 (its token challenge); fails if the process exits. */
const waitUntilAnswering = async (url: string, child: ChildProcess, output: string[]): Promise<void> => {
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`docker-registry exited (${code}): ${output.join('')} — run scripts/services.sh up`)));
    // A missing binary is reported as an 'error' event, which would otherwise crash the test process.
    child.once('error', (error) => reject(new Error(`cannot start docker-registry (run scripts/services.sh up first): ${error.message}`)));
  });
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
