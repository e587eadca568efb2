import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Role } from '@lib/domain';

/** The repository root, whether this file runs from test/support (jest) or dist/test/support. */
const ROOT = ((dir: string): string => {
  while (!existsSync(join(dir, 'package.json'))) dir = join(dir, '..');
  return dir;
})(join(__dirname, '..', '..'));
const CLI = join(ROOT, 'dist/apps/orchestrator/src/cli.js');

const TOKEN_SHAPE = /^bo\.[a-z0-9][a-z0-9_-]{0,62}\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/;

/**
 * Runs the compiled `create-admin-token` on a data directory, as an operator on the machine would
 * (`npm run orchestrator -- create-admin-token`), and resolves with the token it prints. Works before
 * the apps start and while they run.
 */
export const createAdminToken = (dataDir: string, options: { principal?: string; label?: string; env?: Record<string, string> } = {}): Promise<string> =>
  new Promise((resolve, reject) => {
    const args = ['create-admin-token', ...(options.principal ? ['--principal', options.principal] : []), ...(options.label ? ['--label', options.label] : [])];
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env, DATA_DIR: dataDir }, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`create-admin-token failed (${error.code ?? error.signal}). Run "npm run build" first if dist/ is missing.\n${stderr}`));
      const token = stdout.trim();
      if (!TOKEN_SHAPE.test(token)) return reject(new Error(`create-admin-token printed something other than a token on stdout (${stdout.length} characters)`));
      resolve(token);
    });
  });

export type NewPrincipal = Readonly<{ id: string; role: Role; orgs?: readonly string[]; label?: string; expiresInDays?: number }>;

const post = async (url: string, token: string, body: object): Promise<{ status: number; body: any }> => {
  const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
};

/**
 * Creates a principal through the admin API (an existing one is kept as it is) and issues it a
 * token, which it resolves with.
 */
export const issueToken = async (orchestratorUrl: string, adminToken: string, principal: NewPrincipal): Promise<string> => {
  const created = await post(`${orchestratorUrl}/principals`, adminToken, { id: principal.id, role: principal.role, orgs: principal.orgs ?? [] });
  if (created.status !== 201 && !(created.status === 409 && String(created.body?.type).endsWith(':principal-already-exists'))) {
    throw new Error(`POST /principals for ${principal.id}: ${created.status} ${JSON.stringify(created.body)}`);
  }
  const options = { ...(principal.label ? { label: principal.label } : {}), ...(principal.expiresInDays ? { expiresInDays: principal.expiresInDays } : {}) };
  const issued = await post(`${orchestratorUrl}/principals/${principal.id}/tokens`, adminToken, options);
  if (issued.status !== 201) throw new Error(`POST /principals/${principal.id}/tokens: ${issued.status} ${JSON.stringify(issued.body)}`);
  return issued.body.token;
};
