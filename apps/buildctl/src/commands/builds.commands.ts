import type { BuildStatusView } from '../../../projector/src/projections/build-status.projection';
import type { BuildAuditHistory } from '../../../projector/src/audit/build-history';
import type { Command, CommandContext } from '../cli/command';
import { EXIT } from '../cli/exit-codes';
import { renderTable } from '../format/table';
import { renderBuild, renderHistory, BUILD_COLUMNS } from './builds.format';
import { exitCodeForFinalStatus } from './submit.command';
import { fetchPages, followLogs, noteNextPage, PAGING_OPTIONS, printJson, queryFrom, segment, stringOption } from './shared';

const LIST_FILTERS = { org: 'org', repo: 'repo', status: 'status', backend: 'backend', 'failure-class': 'failureClass', 'account-type': 'accountType', from: 'from', to: 'to' };

const list: Command = {
  path: ['builds', 'list'],
  summary: 'list builds, newest first (GET /builds)',
  options: {
    org: { type: 'string', value: 'ORG', description: 'only this org' },
    repo: { type: 'string', value: 'REPO', description: 'only this repository' },
    status: { type: 'string', value: 'S[,S…]', description: 'queued, running, pushing, pushed, failed, canceled, timed-out, expired…' },
    backend: { type: 'string', value: 'B[,B…]', description: 'only builds on these backends' },
    'failure-class': { type: 'string', value: 'C[,C…]', description: 'the last attempt\'s failure class' },
    'account-type': { type: 'string', value: 'org|user', description: 'only this account type' },
    from: { type: 'string', value: 'TIME', description: 'queued at or after (ISO-8601)' },
    to: { type: 'string', value: 'TIME', description: 'queued at or before (ISO-8601)' },
    ...PAGING_OPTIONS,
  },
  details: '--json prints { items, nextCursor } (with --all, every page\'s items and nextCursor null).',
  run: async (context) => {
    const page = await fetchPages<BuildStatusView>(context, 'projector', '/builds', queryFrom(context.options, LIST_FILTERS));
    if (context.json) printJson(context, page);
    else context.io.out(`${renderTable(BUILD_COLUMNS, page.items, '(no builds)')}\n`);
    noteNextPage(context, page.nextCursor);
    return EXIT.ok;
  },
};

const show: Command = {
  path: ['builds', 'show'],
  summary: 'a build\'s status and its history timeline (GET /builds/:id and /builds/:id/history)',
  positionals: [{ name: 'BUILD_ID', required: true }],
  options: { 'as-of': { type: 'string', value: 'POINT', description: 'as it stood at a log position or ISO-8601 time' } },
  details: '--json prints { build, history }.',
  run: async (context) => {
    const id = segment(context.positionals[0]);
    const asOf = stringOption(context.options, 'as-of');
    const client = context.client();
    const [build, history] = await Promise.all([
      client.getJson<BuildStatusView>('projector', `/builds/${id}`, { asOf }),
      client.getJson<BuildAuditHistory>('projector', `/builds/${id}/history`, { asOf }),
    ]);
    if (context.json) printJson(context, { build, history });
    else context.io.out(`${renderBuild(build)}\n\nhistory:\n${renderHistory(history)}\n`);
    return EXIT.ok;
  },
};

const logs: Command = {
  path: ['builds', 'logs'],
  summary: 'a build\'s output (GET /builds/:id/logs); --follow streams it until the build ends',
  positionals: [{ name: 'BUILD_ID', required: true }],
  options: { follow: { type: 'boolean', short: 'f', description: 'stream until the end, then print the final status (exit 1 unless pushed)' } },
  details: 'Without --follow the log is printed as text, --json or not. With --follow --json: NDJSON, one line per server-sent event.',
  run: async (context) => {
    const id = context.positionals[0];
    if (context.options.follow !== true) {
      context.io.out(await context.client().getText('orchestrator', `/builds/${segment(id)}/logs`));
      return EXIT.ok;
    }
    const status = await followLogs(context, id);
    if (!context.json) context.io.out(`build ${id}: ${status}\n`);
    return exitCodeForFinalStatus(status);
  },
};

type CommandResult = { buildId: string; status: string; position: number; attempt?: number };

const action = (verb: 'cancel' | 'retry', summary: string): Command => ({
  path: ['builds', verb],
  summary,
  positionals: [{ name: 'BUILD_ID', required: true }],
  options: { reason: { type: 'string', value: 'TEXT', description: 'why (recorded in the event)' } },
  details: verb === 'cancel'
    ? 'A build that already ended is refused (409, exit 5).'
    : 'Only a build that failed, timed out or expired can be retried; any other status is refused (409, exit 5).',
  run: async (context: CommandContext) => {
    const reason = stringOption(context.options, 'reason');
    const result = await context.client().postJson<CommandResult>('orchestrator', `/builds/${segment(context.positionals[0])}/${verb}`, reason === undefined ? {} : { reason });
    if (context.json) context.io.out(`${JSON.stringify(result)}\n`);
    else context.io.out(`${result.buildId} ${result.status}${result.attempt === undefined ? '' : ` (attempt ${result.attempt})`} at position ${result.position}\n`);
    return EXIT.ok;
  },
});

export const BUILD_COMMANDS: readonly Command[] = [
  list,
  show,
  logs,
  action('cancel', 'cancel a queued or running build (POST /builds/:id/cancel)'),
  action('retry', 'run another attempt of a failed, timed-out or expired build (POST /builds/:id/retry)'),
];
