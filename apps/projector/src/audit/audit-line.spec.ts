import { RecordedEvent } from '@lib/event-store';
import { AuditLineError, parseAuditLine, toAuditLine, toImportedEvent } from './audit-line';

const recorded: RecordedEvent = {
  streamName: 'build-3f0c6a1e-8b2d-4c5e-9f7a-1b2c3d4e5f60',
  streamRevision: 2,
  globalPosition: 41,
  type: 'BuildCanceled',
  data: { buildId: '3f0c6a1e-8b2d-4c5e-9f7a-1b2c3d4e5f60', org: 'acme', reason: 'héllo "quoted"\n', nested: { list: [1, 2.5, null, true] } },
  metadata: {
    eventId: 'e0000000-0000-4000-8000-000000000009',
    occurredAt: '2026-11-16T09:08:00.000Z',
    actor: 'user:alice',
    correlationId: 'incident-42',
    causationId: 'req-1',
    schemaVersion: 1,
  },
  recordedAt: '2026-11-16T09:08:00.004Z',
};

describe('audit lines', () => {
  it('writes one JSON object per line, fields in a fixed order, and reads it back unchanged', () => {
    const { recordedAt, metadata, ...rest } = recorded;
    const line = toAuditLine({ metadata, recordedAt, ...rest }); // the order of the keys given does not matter
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(Object.keys(JSON.parse(line))).toEqual(['streamName', 'streamRevision', 'globalPosition', 'type', 'data', 'metadata', 'recordedAt']);
    expect(parseAuditLine(line.trimEnd())).toEqual(recorded);
    expect(toImportedEvent(parseAuditLine(line))).toEqual({
      streamName: recorded.streamName, streamRevision: 2, type: 'BuildCanceled', data: recorded.data, metadata: recorded.metadata,
    });
  });

  const line = (changes: Record<string, unknown>) => JSON.stringify({ ...recorded, ...changes });
  const metadata = (changes: Record<string, unknown>) => line({ metadata: { ...recorded.metadata, ...changes } });

  it.each([
    ['an empty line', '', /empty line/],
    ['text that is not JSON', '{"streamName":', /not JSON/],
    ['a JSON array', '[]', /not a JSON object/],
    ['an unknown field', line({ extra: 1 }), /unknown field extra/],
    ['a missing stream name', line({ streamName: undefined }), /streamName/],
    ['a reserved stream name', line({ streamName: '$all' }), /streamName/],
    ['a negative revision', line({ streamRevision: -1 }), /streamRevision/],
    ['a fractional revision', line({ streamRevision: 1.5 }), /streamRevision/],
    ['position 0', line({ globalPosition: 0 }), /globalPosition/],
    ['a position as a string', line({ globalPosition: '41' }), /globalPosition/],
    ['an empty type', line({ type: '' }), /type/],
    ['data that is an array', line({ data: [] }), /data must be a JSON object/],
    ['a recordedAt that is no time', line({ recordedAt: 'yesterday' }), /recordedAt/],
    ['no metadata', line({ metadata: null }), /metadata must be a JSON object/],
    ['an upper-case event id', metadata({ eventId: 'E0000000-0000-4000-8000-000000000009' }), /metadata.eventId/],
    ['a missing actor', metadata({ actor: undefined }), /metadata.actor/],
    ['a schema version 0', metadata({ schemaVersion: 0 }), /metadata.schemaVersion/],
  ])('refuses %s, saying what is wrong', (_, text, message) => {
    expect(() => parseAuditLine(text)).toThrow(AuditLineError);
    expect(() => parseAuditLine(text)).toThrow(message);
  });

  it('names every problem of a line at once', () => {
    expect(() => parseAuditLine(line({ streamRevision: -1, globalPosition: 0 }))).toThrow(/streamRevision.*; globalPosition/);
  });
});
