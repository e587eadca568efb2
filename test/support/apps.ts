import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bearer, Credentials, CredentialsRegistry, TestRole } from './credentials';

/** The repository root, whether this file runs from test/support (jest) or dist/test/support (bench). */
const ROOT = ((dir: string): string => {
  while (!existsSync(join(dir, 'package.json'))) dir = join(dir, '..');
  return dir;
})(join(__dirname, '..', '..'));
const ENTRY = {
  orchestrator: join(ROOT, 'dist/apps/orchestrator/src/main.js'),
  projector: join(ROOT, 'dist/apps/projector/src/main.js'),
};

export type RunningApp = { name: keyof typeof ENTRY; url: string; process: ChildProcess; output: string[]; credentials: Credentials | null };

/** This test file's credentials per data directory, and the token `http` sends to each app by default. */
const credentials = new CredentialsRegistry();
const defaultTokens = new Map<string, string>();

/** The token `http` sends to an app unless the request carries its own Authorization header. */
const DEFAULT_ROLE = { orchestrator: 'builder', projector: 'auditor' } as const;

/**
 * Starts one compiled app as a real process on a free port and resolves with its URL once it logs
 * that it listens (no sleeps). Fails with the app's output if it exits first.
 */
export const startApp = async (name: keyof typeof ENTRY, env: Record<string, string>): Promise<RunningApp> => {
  // Test principals and tokens are seeded into a SQLite data directory before its first app starts.
  const seeded = env.DATA_DIR && !env.EVENTSTORE_CONNECTION_STRING ? await credentials.of(env.DATA_DIR) : null;
  const app = await spawnApp(name, env, seeded);
  if (seeded) defaultTokens.set(new URL(app.url).origin, seeded[DEFAULT_ROLE[name]]);
  return app;
};

const spawnApp = (name: keyof typeof ENTRY, env: Record<string, string>, seeded: Credentials | null): Promise<RunningApp> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ENTRY[name]], {
      // LOG_LEVEL stays at least 'log': the "listening on" line is how the start is noticed.
      env: { ...process.env, PORT: '0', PROJECTOR_PORT: '0', NO_COLOR: '1', ...env, LOG_LEVEL: env.LOG_LEVEL === 'debug' || env.LOG_LEVEL === 'verbose' ? env.LOG_LEVEL : 'log' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const onLine = (line: string) => {
      output.push(line);
      const match = /listening on (http:\/\/[^\s]+)/.exec(line);
      if (match) resolve({ name, url: match[1], process: child, output, credentials: seeded });
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code, signal) =>
      reject(new Error(`${name} exited (${signal ?? code}) before listening. Run "npm run build" first if dist/ is missing.\n${output.join('\n')}`)),
    );
  });

export const stopApp = (app: RunningApp | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (!app || app.process.exitCode !== null || app.process.signalCode !== null) return resolve();
    app.process.once('exit', () => resolve());
    app.process.kill('SIGTERM');
  });

/** Both apps on one fresh data directory, as `npm start` runs them. */
export class AppsUnderTest {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'e2e-'));
  orchestrator!: RunningApp;
  projector!: RunningApp;

  async start(env: Record<string, string> = {}): Promise<this> {
    const [orchestrator, projector] = await Promise.allSettled([
      startApp('orchestrator', { DATA_DIR: this.dataDir, ...env }),
      startApp('projector', { DATA_DIR: this.dataDir, ...env }),
    ]);
    if (orchestrator.status === 'rejected' || projector.status === 'rejected') {
      // One failed to start: stop the other, or its open pipes would keep the test run alive.
      await Promise.all([orchestrator, projector].map((result) => (result.status === 'fulfilled' ? stopApp(result.value) : undefined)));
      throw orchestrator.status === 'rejected' ? orchestrator.reason : (projector as PromiseRejectedResult).reason;
    }
    [this.orchestrator, this.projector] = [orchestrator.value, projector.value];
    return this;
  }

  /** The tokens of the test principals on this installation. */
  get credentials(): Credentials {
    const credentials = this.orchestrator?.credentials ?? this.projector?.credentials;
    if (!credentials) throw new Error('the apps have not started (or run on EventStoreDB): no test credentials');
    return credentials;
  }

  /** Headers that make a request as one of the test principals (instead of the app's default). */
  as(role: TestRole): Record<string, string> {
    return bearer(this.credentials[role]);
  }

  async stop(): Promise<void> {
    await Promise.all([stopApp(this.orchestrator), stopApp(this.projector)]);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** `headers` with the app's default token unless they name an Authorization of their own ('' for none). */
export const withDefaultToken = (url: string, headers: Record<string, string> = {}): Record<string, string> => {
  const own = Object.keys(headers).find((key) => key.toLowerCase() === 'authorization');
  if (own !== undefined) {
    const { [own]: given, ...rest } = headers;
    return given === '' ? rest : headers;
  }
  const token = defaultTokens.get(new URL(url).origin);
  return token ? { ...headers, authorization: `Bearer ${token}` } : { ...headers };
};

export type HttpResult<T = any> = { status: number; headers: Headers; body: T; text: string };

/**
 * One HTTP request. Unless `headers` has an `authorization` entry (an empty string sends none), the
 * app's default test token goes with it: the builder's to the orchestrator, the auditor's to the projector.
 */
export const http = async <T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> => {
  const init: RequestInit = { method, headers: withDefaultToken(url, headers) };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
};
