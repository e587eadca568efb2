import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { Command, CommandContext } from '../cli/command';
import { UnreachableError, UsageError } from '../cli/errors';
import { EXIT } from '../cli/exit-codes';
import { textChunks } from '../client';
import { integerOption, queryFrom, stringOption } from './shared';

/** Where a file saved from /audit/events ends: the bytes of its complete lines and the last line's position. */
export type ExportTail = { completeBytes: number; lastPosition: number | null };

/** The position in one NDJSON line of /audit/events (its resumable cursor). */
export const positionOf = (line: string): number => {
  const position = (JSON.parse(line) as { globalPosition?: unknown }).globalPosition;
  if (typeof position !== 'number') throw new UsageError('the file is not an audit export: a line has no globalPosition');
  return position;
};

/** Reads backwards from the end until it has the last complete line; a partial last line is not counted. */
export const readTail = (path: string): ExportTail => {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let tail = Buffer.alloc(0);
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - 65_536);
      const chunk = Buffer.alloc(end - start);
      readSync(fd, chunk, 0, chunk.length, start);
      tail = Buffer.concat([chunk, tail]);
      end = start;
      const lastNewline = tail.lastIndexOf(0x0a);
      if (lastNewline === -1) continue;
      const previous = tail.lastIndexOf(0x0a, lastNewline - 1);
      if (previous === -1 && end > 0) continue;
      const line = tail.subarray(previous + 1, lastNewline).toString('utf8');
      return { completeBytes: end + lastNewline + 1, lastPosition: positionOf(line) };
    }
    return { completeBytes: 0, lastPosition: null };
  } finally {
    closeSync(fd);
  }
};

const FILTERS = { from: 'from', to: 'to', org: 'org' };

type Summary = { file: string; events: number; bytes: number; lastPosition: number | null; headPosition: number | null; complete: boolean };

/**
 * Where a --resume continues: after the last complete line of the file, if it exists. Only read here:
 * the file is changed once the service has answered, so a refused request leaves it as it was.
 */
const resumePoint = (path: string, resume: boolean): ExportTail | null => (resume && existsSync(path) ? readTail(path) : null);

/** Opens the target: new (mode 0600, truncated), or for --resume cut after its last complete line. */
const openTarget = (path: string, tail: ExportTail | null): number => {
  if (tail === null) return openSync(path, 'w', 0o600);
  const fd = openSync(path, 'r+');
  ftruncateSync(fd, tail.completeBytes);
  return fd;
};

/** Streams the response into the file, complete lines only, and tracks the last position written. */
const copyLines = async (response: Response, fd: number, summary: Summary, offset: number): Promise<void> => {
  let pending = '';
  let written = offset;
  for await (const chunk of textChunks(response, 'the export')) {
    pending += chunk;
    const cut = pending.lastIndexOf('\n');
    if (cut === -1) continue;
    const lines = pending.slice(0, cut + 1);
    pending = pending.slice(cut + 1);
    const bytes = Buffer.from(lines, 'utf8');
    writeSync(fd, bytes, 0, bytes.length, written);
    written += bytes.length;
    summary.bytes += bytes.length;
    const complete = lines.split('\n').filter((line) => line !== '');
    summary.events += complete.length;
    summary.lastPosition = positionOf(complete[complete.length - 1]);
  }
  if (pending !== '') throw new UnreachableError('the export ended in the middle of a line');
};

const run = async (context: CommandContext): Promise<number> => {
  const file = stringOption(context.options, 'out');
  if (file === undefined) throw new UsageError('--out FILE is required');
  if (file === '-') throw new UsageError('--out needs a file (the export is written in place so that it can be resumed)');
  const resume = context.options.resume === true;
  const explicitAfter = integerOption(context.options, 'after', 0, Number.MAX_SAFE_INTEGER);
  if (resume && explicitAfter !== undefined) throw new UsageError('--resume and --after exclude each other');
  const tail = resumePoint(file, resume);
  const query = { ...queryFrom(context.options, FILTERS), after: explicitAfter ?? tail?.lastPosition ?? undefined, limit: integerOption(context.options, 'limit', 1, 1_000_000) };
  const response = await context.client().request('projector', 'GET', '/audit/events', query, { accept: 'application/x-ndjson' });
  const head = response.headers.get('x-head-position');
  const summary: Summary = { file, events: 0, bytes: 0, lastPosition: tail?.lastPosition ?? null, headPosition: head === null ? null : Number(head), complete: false };
  const fd = openTarget(file, tail);
  try {
    await copyLines(response, fd, summary, tail?.completeBytes ?? 0);
    summary.complete = true;
  } catch (error) {
    if (error instanceof UnreachableError && summary.lastPosition !== null) {
      context.io.err(`buildctl: export interrupted after position ${summary.lastPosition}; continue with: buildctl audit export --out ${file} --resume (and the same filters)\n`);
    }
    throw error;
  } finally {
    fsyncSync(fd);
    closeSync(fd);
  }
  if (context.json) context.io.out(`${JSON.stringify(summary)}\n`);
  else context.io.err(`exported ${summary.events} events (${summary.bytes} bytes) to ${file}; last position ${summary.lastPosition ?? '-'}, head ${summary.headPosition ?? '-'}\n`);
  return EXIT.ok;
};

export const auditExportCommand: Command = {
  path: ['audit', 'export'],
  summary: 'save the audit log (GET /audit/events, NDJSON) to a file',
  options: {
    out: { type: 'string', short: 'o', value: 'FILE', description: 'the file to write (required; created with mode 0600)' },
    from: { type: 'string', value: 'POINT', description: 'from this log position or ISO-8601 time (inclusive)' },
    to: { type: 'string', value: 'POINT', description: 'up to this log position or ISO-8601 time (inclusive)' },
    org: { type: 'string', value: 'ORG', description: 'only this org\'s build events' },
    after: { type: 'string', value: 'N', description: 'only events after this global position (the cursor)' },
    limit: { type: 'string', value: 'N', description: 'at most N events (1–1,000,000)' },
    resume: { type: 'boolean', description: 'append to FILE after its last complete line, continuing from that line\'s position' },
  },
  details: [
    'The file holds exactly the lines /audit/events sends, so it can be loaded with "buildctl audit import".',
    'Only complete lines are written. If the connection breaks, the file ends at the last complete line and',
    'the command exits 6 naming that position: run it again with --resume and the same filters to continue.',
    'The summary goes to stderr (--json: as a JSON line on stdout).',
  ].join('\n'),
  run,
};
