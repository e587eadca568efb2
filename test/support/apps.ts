import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The repository root, whether this file runs from test/support (jest) or dist/test/support (bench). */
const ROOT = ((dir: string): string => {
  while (!existsSync(join(dir, 'package.json'))) dir = join(dir, '..');
  return dir;
})(join(__dirname, '..', '..'));
const ENTRY = {
  orchestrator: join(ROOT, 'dist/apps/orchestrator/src/main.js'),
  projector: join(ROOT, 'dist/apps/projector/src/main.js'),
};

export type RunningApp = { name: keyof typeof ENTRY; url: string; process: ChildProcess; output: string[] };

/**
 * Starts one compiled app as a real process on a free port and resolves with its URL once it logs
 * that it listens (no sleeps). Fails with the app's output if it exits first.
 */
export const startApp = (name: keyof typeof ENTRY, env: Record<string, string>): Promise<RunningApp> =>
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
      if (match) resolve({ name, url: match[1], process: child, output });
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

  async stop(): Promise<void> {
    await Promise.all([stopApp(this.orchestrator), stopApp(this.projector)]);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export type HttpResult<T = any> = { status: number; headers: Headers; body: T; text: string };

export const http = async <T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> => {
  const init: RequestInit = { method, headers: { ...headers } };
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
