import { RecordedEvent } from '@lib/event-store';
import { AppConfig } from '@lib/shared';
import { openAuditScan, WHOLE_LOG } from '../audit/audit-scan';
import { toAuditLine } from '../audit/audit-line';
import { AuditEventsQueryDto, criteriaOf } from '../audit/audit.dto';
import { describeStore, exitCodeOf, openRecordedStore, parseOptions, validateOptions } from '../audit/cli-support';
import { atomicFileSink, ExportSink, stdoutSink } from '../audit/export-sink';
import { CliCommand, CliUsageError } from './cli-command';

type Written = { events: number; bytes: number; lastPosition: number | null; interrupted: boolean };

/** Writes every page as it is read; SIGINT or SIGTERM stops it between pages. */
const writeAll = async (pages: AsyncIterable<readonly RecordedEvent[]>, sink: ExportSink): Promise<Written> => {
  const written: Written = { events: 0, bytes: 0, lastPosition: null, interrupted: false };
  const interrupt = () => {
    written.interrupted = true;
  };
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  try {
    for await (const page of pages) {
      if (written.interrupted) break;
      if (page.length === 0) continue;
      written.bytes += await sink.write(page.map(toAuditLine).join(''));
      written.events += page.length;
      written.lastPosition = page[page.length - 1].globalPosition;
    }
  } finally {
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
  }
  return written;
};

const run = async (args: readonly string[], config: AppConfig): Promise<number> => {
  const { out, ...filters } = parseOptions(args, ['out', 'from', 'to', 'org', 'after']);
  if (out === undefined || out === '') throw new CliUsageError('export needs --out FILE (or --out - for standard output)');
  const criteria = criteriaOf(validateOptions(AuditEventsQueryDto, filters));
  return exitCodeOf(async () => {
    const store = await openRecordedStore(config, { mustExist: true });
    try {
      // The operator at the machine can read the store itself: the export holds the whole log.
      const scan = await openAuditScan(store, criteria, WHOLE_LOG);
      const sink = out === '-' ? stdoutSink() : await atomicFileSink(out);
      const written = await writeAll(scan.pages, sink).catch(async (error: unknown) => {
        await sink.abort();
        throw error;
      });
      const report = out === '-' ? console.error : console.log;
      if (written.interrupted) {
        await sink.abort();
        console.error(`export interrupted after ${written.events} events; ${out === '-' ? 'the output is incomplete' : `${sink.target} was not written`}`);
        return 130;
      }
      await sink.commit();
      report(`exported ${written.events} events (${written.bytes} bytes) from ${describeStore(config)} to ${sink.target}; `
        + `last position ${written.lastPosition ?? 'none'}; the log's head was ${scan.headPosition} when the export began`);
      return 0;
    } finally {
      await store.close();
    }
  });
};

export const exportCommand: CliCommand = {
  name: 'export',
  usage: 'export --out FILE [filters, see --help]',
  summary: 'write the log, or the part of it that matches, as NDJSON (the lines of GET /audit/events)',
  help: [
    'options:',
    '  --out FILE   where to write; - for standard output. A file is written beside the target and renamed',
    '               into place once complete (an existing file is replaced); an interrupted export leaves none.',
    '  --from P     from this point on (inclusive): a global position, or an ISO-8601 time with a zone (occurredAt)',
    '  --to P       up to this point (inclusive), as --from',
    '  --org ORG    only the build events of this org (route and executor events have no org and are left out)',
    '  --after N    resume: only events after global position N (the last position of an earlier export)',
    '',
    'Reads the configured store (SQLite under DATA_DIR, or EventStoreDB with EVENTSTORE_CONNECTION_STRING) page by',
    'page, up to the head of the log when the export began, and writes each event as recorded (no upcasting).',
    'A whole-log or org export holds whole streams and can be imported (npm run projector -- import --in FILE);',
    'one cut by --from, --to or --after holds parts of streams and cannot.',
  ].join('\n'),
  run,
};
