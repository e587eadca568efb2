import type { Command, CommandContext } from '../cli/command';
import { UsageError } from '../cli/errors';
import { EXIT } from '../cli/exit-codes';
import { followLogs, integerOption, stringOption } from './shared';

type Queued = { buildId: string; status: 'queued'; position: number };

const ACCOUNT_TYPES = ['org', 'user'];

const required = (context: CommandContext, name: string): string => {
  const value = stringOption(context.options, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
};

/** The POST /builds body from the flags; the service validates the values and names any at fault. */
export const submitBody = (context: CommandContext): Record<string, unknown> => {
  const accountType = stringOption(context.options, 'account-type');
  if (accountType !== undefined && !ACCOUNT_TYPES.includes(accountType)) throw new UsageError(`--account-type must be one of ${ACCOUNT_TYPES.join(', ')}`);
  const body: Record<string, unknown> = {
    org: required(context, 'org'),
    repo: required(context, 'repo'),
    source: { git: { url: required(context, 'git-url'), ref: stringOption(context.options, 'ref') } },
    dockerfile: stringOption(context.options, 'dockerfile'),
    tag: stringOption(context.options, 'tag'),
    repository: stringOption(context.options, 'repository'),
    priority: integerOption(context.options, 'priority', 0, 9),
    timeoutSeconds: integerOption(context.options, 'timeout-seconds', 1, 2_147_483_647),
    accountType,
  };
  return JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
};

/** 0 when the build was pushed; 1 when it ended any other way. */
export const exitCodeForFinalStatus = (status: string): number => (status === 'pushed' ? EXIT.ok : EXIT.failed);

const run = async (context: CommandContext): Promise<number> => {
  const body = submitBody(context);
  const key = stringOption(context.options, 'idempotency-key');
  const queued = await context.client().postJson<Queued>('orchestrator', '/builds', body, key ? { 'idempotency-key': key } : {});
  if (context.json) context.io.out(`${JSON.stringify(queued)}\n`);
  else context.io.out(`${queued.buildId} queued (position ${queued.position})\n`);
  if (context.options.follow !== true) return EXIT.ok;
  const status = await followLogs(context, queued.buildId);
  if (context.json) return exitCodeForFinalStatus(status);
  context.io.out(`build ${queued.buildId}: ${status}\n`);
  return exitCodeForFinalStatus(status);
};

export const submitCommand: Command = {
  path: ['submit'],
  summary: 'queue a build (POST /builds); with --follow, stream its log until it ends',
  options: {
    org: { type: 'string', value: 'ORG', description: 'organization slug (required)' },
    repo: { type: 'string', value: 'REPO', description: 'repository slug (required)' },
    'git-url': { type: 'string', value: 'URL', description: 'git source: absolute path, file://, https:// or ssh:// (required)' },
    ref: { type: 'string', value: 'REF', description: 'branch, tag or commit (default HEAD)' },
    dockerfile: { type: 'string', value: 'PATH', description: 'Dockerfile path inside the repository (default Dockerfile)' },
    tag: { type: 'string', value: 'TAG', description: 'image tag (default latest)' },
    repository: { type: 'string', value: 'NS/NAME', description: 'where to push (default ORG/REPO)' },
    priority: { type: 'string', value: '0-9', description: 'higher first (default 5)' },
    'account-type': { type: 'string', value: 'org|user', description: 'account type (default org)' },
    'timeout-seconds': { type: 'string', value: 'N', description: 'a limit below the service\'s BUILD_TIMEOUT_SECONDS' },
    'idempotency-key': { type: 'string', value: 'KEY', description: 'repeat-safe submission: the same key returns the same build' },
    follow: { type: 'boolean', short: 'f', description: 'stream the log until the build ends, then print its final status' },
  },
  details: [
    'Prints the build id and its queue position (--json: the response). With --follow, the log lines follow',
    '(--json: one NDJSON line per server-sent event, the last being {"event":"end",…}), then the final status;',
    'the exit code is 0 when the build was pushed and 1 when it failed, timed out, was canceled or expired.',
  ].join('\n'),
  run,
};
