import { ImportedEvent } from '@lib/event-store';
import { createHash, Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { AuditLine, AuditLineError, parseAuditLine, toImportedEvent } from './audit-line';
import { CommandFailure } from './cli-support';

/** What the import learnt of a file by validating it; `digest` proves the second reading read the same bytes. */
export type AuditFileSummary = Readonly<{ events: number; streams: number; lastPosition: number; digest: string }>;

/** An export file that cannot be imported; `problems` name lines. */
export class AuditFileError extends CommandFailure {
  constructor(readonly path: string, readonly problems: readonly string[]) {
    super(`${path} cannot be imported:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'AuditFileError';
  }
}

const MAX_PROBLEMS = 10;

/** The file's lines with their numbers; every byte read also goes into `hash`. */
async function* numberedLines(path: string, hash: Hash): AsyncGenerator<[number, string]> {
  const input = createReadStream(path);
  input.on('data', (chunk) => hash.update(chunk));
  const lines = createInterface({ input, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of lines) yield [++number, line];
  } finally {
    lines.close();
    input.destroy();
  }
}

/** What must hold between lines: log order, whole streams with consecutive revisions, unique event ids. */
class Continuity {
  private readonly nextRevisions = new Map<string, number>();
  private readonly eventIds = new Set<string>();
  lastPosition = 0;

  get streams(): number {
    return this.nextRevisions.size;
  }

  problemsWith({ streamName, streamRevision, globalPosition, metadata }: AuditLine): string[] {
    const problems: string[] = [];
    if (globalPosition <= this.lastPosition) problems.push(`globalPosition ${globalPosition} does not follow ${this.lastPosition}: lines must be in log order`);
    const expected = this.nextRevisions.get(streamName) ?? 0;
    if (streamRevision !== expected) {
      problems.push(expected === 0
        ? `stream ${streamName} starts at revision ${streamRevision}, not 0: the file holds only part of it (an export cut by from, to or after); an import needs whole streams`
        : `stream ${streamName} goes from revision ${expected - 1} to ${streamRevision}`);
    }
    if (this.eventIds.has(metadata.eventId)) problems.push(`event id ${metadata.eventId} appears twice`);
    this.nextRevisions.set(streamName, streamRevision + 1);
    this.eventIds.add(metadata.eventId);
    this.lastPosition = Math.max(this.lastPosition, globalPosition);
    return problems;
  }
}

/** Reads the whole file and checks every line on its own and against the others, before anything is written. */
export const validateAuditFile = async (path: string): Promise<AuditFileSummary> => {
  const hash = createHash('sha256');
  const continuity = new Continuity();
  const problems: string[] = [];
  let events = 0;
  for await (const [number, text] of numberedLines(path, hash)) {
    try {
      continuity.problemsWith(parseAuditLine(text)).forEach((problem) => problems.push(`line ${number}: ${problem}`));
    } catch (error) {
      if (!(error instanceof AuditLineError)) throw error;
      problems.push(`line ${number}: ${error.message}`);
    }
    events += 1;
    if (problems.length >= MAX_PROBLEMS) {
      problems.push(`(stopped after ${MAX_PROBLEMS} problems)`);
      break;
    }
  }
  if (problems.length > 0) throw new AuditFileError(path, problems);
  return { events, streams: continuity.streams, lastPosition: continuity.lastPosition, digest: hash.digest('hex') };
};

/**
 * The file's events in batches, for `importEvents`. It ends by checking that the bytes are those
 * that were validated; if not, it throws before the store commits (SQLite writes nothing).
 */
export async function* importBatches(path: string, validated: AuditFileSummary, size = 1000): AsyncGenerator<ImportedEvent[]> {
  const hash = createHash('sha256');
  let batch: ImportedEvent[] = [];
  for await (const [number, text] of numberedLines(path, hash)) {
    try {
      batch.push(toImportedEvent(parseAuditLine(text)));
    } catch (error) {
      throw error instanceof AuditLineError ? new AuditFileError(path, [`line ${number}: ${error.message} (the file changed after it was validated)`]) : error;
    }
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
  if (hash.digest('hex') !== validated.digest) throw new AuditFileError(path, ['the file changed after it was validated']);
}
