import { EventMetadata } from '@lib/domain';
import { ImportedEvent, MAX_STREAM_NAME_LENGTH, RecordedEvent } from '@lib/event-store';
import { UUID_PATTERN } from '@lib/shared';

/**
 * One line of `GET /audit/events` and of an export file: an event exactly as the store recorded
 * it, where it sits in its stream and in the log. The same shape both ways, so that whatever the
 * HTTP endpoint streams can be imported too.
 */
export type AuditLine = Readonly<{
  streamName: string;
  streamRevision: number;
  globalPosition: number;
  type: string;
  data: Readonly<Record<string, unknown>>;
  metadata: EventMetadata;
  recordedAt: string;
}>;

const FIELDS = ['streamName', 'streamRevision', 'globalPosition', 'type', 'data', 'metadata', 'recordedAt'] as const;
const METADATA_STRINGS = ['occurredAt', 'actor', 'correlationId', 'causationId'] as const;

/** The line for an event, with its newline; fields always in the same order. */
export const toAuditLine = ({ streamName, streamRevision, globalPosition, type, data, metadata, recordedAt }: RecordedEvent): string =>
  `${JSON.stringify({ streamName, streamRevision, globalPosition, type, data, metadata, recordedAt })}\n`;

export const toImportedEvent = ({ streamName, streamRevision, type, data, metadata }: AuditLine): ImportedEvent => ({ streamName, streamRevision, type, data, metadata });

/** A line that is not an audit line; the message says what is wrong with it. */
export class AuditLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditLineError';
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown, min: number): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

const problemsOf = (line: Record<string, unknown>): string[] => {
  const { streamName, streamRevision, globalPosition, type, data, metadata, recordedAt } = line;
  const problems = Object.keys(line).filter((key) => !(FIELDS as readonly string[]).includes(key)).map((key) => `unknown field ${key}`);
  if (!isText(streamName) || streamName.length > MAX_STREAM_NAME_LENGTH || streamName.startsWith('$')) problems.push(`streamName must be 1..${MAX_STREAM_NAME_LENGTH} characters, not starting with $`);
  if (!isCount(streamRevision, 0)) problems.push('streamRevision must be a non-negative integer');
  if (!isCount(globalPosition, 1)) problems.push('globalPosition must be a positive integer');
  if (!isText(type)) problems.push('type must be a non-empty string');
  if (!isObject(data)) problems.push('data must be a JSON object');
  if (!isText(recordedAt) || Number.isNaN(Date.parse(recordedAt))) problems.push('recordedAt must be an ISO-8601 time');
  if (!isObject(metadata)) return [...problems, 'metadata must be a JSON object'];
  if (typeof metadata.eventId !== 'string' || !UUID_PATTERN.test(metadata.eventId)) problems.push('metadata.eventId must be a lower-case UUID');
  METADATA_STRINGS.filter((key) => typeof metadata[key] !== 'string').forEach((key) => problems.push(`metadata.${key} must be a string`));
  if (!isCount(metadata.schemaVersion, 1)) problems.push('metadata.schemaVersion must be a positive integer');
  return problems;
};

/** Parses and checks one line on its own; what holds across lines is checked by the caller. */
export const parseAuditLine = (text: string): AuditLine => {
  if (text.trim() === '') throw new AuditLineError('empty line');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AuditLineError(`not JSON: ${(error as Error).message}`);
  }
  if (!isObject(value)) throw new AuditLineError('not a JSON object');
  const problems = problemsOf(value);
  if (problems.length > 0) throw new AuditLineError(problems.join('; '));
  return value as AuditLine;
};
