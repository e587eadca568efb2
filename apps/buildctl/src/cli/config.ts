import { UsageError } from './errors';
import type { ParsedOptions } from './command';

export const DEFAULT_ORCHESTRATOR_URL = 'http://127.0.0.1:3000';
export const DEFAULT_PROJECTOR_URL = 'http://127.0.0.1:3001';

export type Settings = Readonly<{ orchestratorUrl: string; projectorUrl: string; token: string | null }>;

export const ENV_HELP = [
  'environment:',
  `  BUILDCTL_ORCHESTRATOR_URL  the command API (default ${DEFAULT_ORCHESTRATOR_URL}); --orchestrator URL`,
  `  BUILDCTL_PROJECTOR_URL     the query API (default ${DEFAULT_PROJECTOR_URL}); --projector URL`,
  '  BUILDCTL_TOKEN             the API token; --token TOKEN or --token-file PATH (first line) take precedence',
].join('\n');

const httpUrl = (value: string, source: string): string => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${source} must be an http:// or https:// URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${source} must be an http:// or https:// URL`);
  if (url.username || url.password) throw new UsageError(`${source} must not carry credentials: use --token or BUILDCTL_TOKEN`);
  return value;
};

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

/**
 * Flags first, then the environment, then the defaults. The token is read from a file only when
 * neither --token is given; a token file that cannot be read is a usage error naming the path only.
 */
export const resolveSettings = (options: ParsedOptions, env: NodeJS.ProcessEnv, readFile: (path: string) => string): Settings => {
  const flag = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const orchestrator = flag('orchestrator') ?? nonEmpty(env.BUILDCTL_ORCHESTRATOR_URL);
  const projector = flag('projector') ?? nonEmpty(env.BUILDCTL_PROJECTOR_URL);
  return {
    orchestratorUrl: orchestrator === undefined ? DEFAULT_ORCHESTRATOR_URL : httpUrl(orchestrator, flag('orchestrator') ? '--orchestrator' : 'BUILDCTL_ORCHESTRATOR_URL'),
    projectorUrl: projector === undefined ? DEFAULT_PROJECTOR_URL : httpUrl(projector, flag('projector') ? '--projector' : 'BUILDCTL_PROJECTOR_URL'),
    token: nonEmpty(flag('token')) ?? tokenFromFile(flag('token-file'), readFile) ?? nonEmpty(env.BUILDCTL_TOKEN) ?? null,
  };
};

const tokenFromFile = (path: string | undefined, readFile: (path: string) => string): string | undefined => {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read --token-file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const token = nonEmpty(text.split(/\r?\n/)[0]);
  if (!token) throw new UsageError(`--token-file ${path} is empty`);
  return token;
};
