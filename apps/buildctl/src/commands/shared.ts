import type { CommandContext, OptionSpec, ParsedOptions } from '../cli/command';
import { UnreachableError, UsageError } from '../cli/errors';
import { Query, serverSentEvents, textChunks } from '../client';

/** One JSON value on one line, so that every --json output is also valid NDJSON. */
export const printJson = (context: CommandContext, value: unknown): void => context.io.out(`${JSON.stringify(value)}\n`);

export const stringOption = (options: ParsedOptions, name: string): string | undefined =>
  typeof options[name] === 'string' ? (options[name] as string) : undefined;

/** An integer flag within bounds, or a usage error naming it. */
export const integerOption = (options: ParsedOptions, name: string, min: number, max: number): number | undefined => {
  const value = stringOption(options, name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return Number(value);
};

/** Query parameters from flags: `{ flag: parameter }`; unset flags are left out. */
export const queryFrom = (options: ParsedOptions, names: Readonly<Record<string, string>>): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(names).map(([flag, parameter]) => [parameter, stringOption(options, flag)]));

/** A path segment from a positional (ids are validated by the service, which answers 400 naming them). */
export const segment = (value: string): string => encodeURIComponent(value);

export const PAGING_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  limit: { type: 'string', value: 'N', description: 'items per page, 1–200 (service default 50)' },
  cursor: { type: 'string', value: 'CURSOR', description: 'continue from a previous page (its nextCursor)' },
  all: { type: 'boolean', description: 'follow nextCursor to the last page' },
};

type Page<Item> = { items: Item[]; nextCursor: string | null };

/** One page, or with --all every page merged into `{ items, nextCursor: null }`. */
export const fetchPages = async <Item>(context: CommandContext, app: 'projector', path: string, query: Query): Promise<Page<Item>> => {
  const client = context.client();
  const limit = integerOption(context.options, 'limit', 1, 200);
  let page = await client.getJson<Page<Item>>(app, path, { ...query, limit, cursor: stringOption(context.options, 'cursor') });
  if (context.options.all !== true) return page;
  const items = [...page.items];
  while (page.nextCursor) {
    page = await client.getJson<Page<Item>>(app, path, { ...query, limit, cursor: page.nextCursor });
    items.push(...page.items);
  }
  return { items, nextCursor: null };
};

/** Says on stderr how to get the next page, so that stdout stays the table alone. */
export const noteNextPage = (context: CommandContext, nextCursor: string | null): void => {
  if (nextCursor) context.io.err(`more: --cursor ${nextCursor} (or --all)\n`);
};

/** How many times in a row a broken log stream is reopened (from the last offset received) before giving up. */
const RECONNECTS = 3;

/**
 * Streams a build's log (server-sent events) until its `end` event and returns the final status.
 * Human mode prints the lines as they come; --json prints each event as an NDJSON line. A stream
 * that breaks is reopened with Last-Event-ID (the byte offset reached), so no line is lost or repeated.
 */
export const followLogs = async (context: CommandContext, buildId: string): Promise<string> => {
  let lastId: string | null = null;
  for (let failures = 0; ; ) {
    try {
      const headers: Record<string, string> = lastId === null ? { accept: 'text/event-stream' } : { accept: 'text/event-stream', 'last-event-id': lastId };
      const response = await context.client().request('orchestrator', 'GET', `/builds/${segment(buildId)}/logs`, { follow: 'true' }, headers);
      for await (const event of serverSentEvents(textChunks(response, 'the log stream'))) {
        failures = 0;
        if (event.id !== null) lastId = event.id;
        if (context.json) context.io.out(`${JSON.stringify(event)}\n`);
        else if (event.event === 'log') context.io.out(`${event.data}\n`);
        if (event.event === 'end') return (JSON.parse(event.data) as { status: string }).status;
      }
      throw new UnreachableError('the log stream ended before the build did');
    } catch (error) {
      if (!(error instanceof UnreachableError) || (failures += 1) > RECONNECTS) throw error;
      context.io.err(`buildctl: ${error.message}; reconnecting from byte ${lastId ?? 0}\n`);
    }
  }
};
