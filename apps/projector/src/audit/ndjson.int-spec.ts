import { Logger } from '@nestjs/common';
import { EventStore, RecordedEvent } from '@lib/event-store';
import Fastify, { FastifyInstance } from 'fastify';
import { openAuditScan, WHOLE_LOG } from './audit-scan';
import { HEAD_POSITION_HEADER, sendNdjson } from './ndjson';

const event = (globalPosition: number): RecordedEvent => ({
  streamName: `thing-${globalPosition % 7}`,
  streamRevision: Math.floor(globalPosition / 7),
  globalPosition,
  type: 'ThingHappened',
  data: { padding: 'x'.repeat(200) },
  metadata: { eventId: '00000000-0000-4000-8000-000000000000', occurredAt: '2026-11-16T09:00:00.000Z', actor: 'a', correlationId: 'c', causationId: 'c', schemaVersion: 2 },
  recordedAt: '2026-11-16T09:00:00.000Z',
});

/** A log as long as `head`, read page by page; `failAt` makes the read of that page fail. */
const logOf = (head: number, failAt?: number) => {
  const progress = { reads: 0, scanEnded: undefined as Promise<void> | undefined };
  const store = {
    headPosition: async () => head,
    readAll: async ({ fromPosition = 1, maxCount = 1000 } = {}) => {
      progress.reads += 1;
      if (progress.reads === failAt) throw new Error('the disk went away');
      return Array.from({ length: Math.max(0, Math.min(maxCount, head - fromPosition + 1)) }, (_, i) => event(fromPosition + i));
    },
  } as unknown as EventStore;
  return { store, progress };
};

/** The scan's pages, with a promise that resolves when the scan is over (finished or stopped). */
const watched = async (store: EventStore, progress: { scanEnded?: Promise<void> }) => {
  const scan = await openAuditScan(store, {}, WHOLE_LOG, 50);
  let ended!: () => void;
  progress.scanEnded = new Promise((resolve) => (ended = resolve));
  async function* pages() {
    try {
      yield* scan.pages;
    } finally {
      ended();
    }
  }
  return { ...scan, pages: pages() };
};

describe('streaming an audit scan as NDJSON over HTTP', () => {
  let app: FastifyInstance;
  let url: string;
  let current: ReturnType<typeof logOf>;
  const errors: string[] = [];
  const logger = { error: (message: string) => errors.push(message) } as unknown as Logger;

  beforeAll(async () => {
    app = Fastify({ forceCloseConnections: true });
    app.get('/events', async (_, reply) => {
      await sendNdjson(reply, await watched(current.store, current.progress), logger);
      return reply;
    });
    url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/events`;
  });
  afterAll(() => app.close());

  it('sends every line in order, page by page, with the head it stops at', async () => {
    current = logOf(120);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(response.headers.get(HEAD_POSITION_HEADER)).toBe('120');
    const lines = (await response.text()).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line).globalPosition)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(current.progress.reads).toBe(3);
  });

  it('stops reading the log when the client goes away', async () => {
    current = logOf(Number.MAX_SAFE_INTEGER); // never ends by itself
    const controller = new AbortController();
    const response = await fetch(url, { signal: controller.signal });
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value).startsWith('{"streamName":"thing-1","streamRevision":0,"globalPosition":1,')).toBe(true);
    controller.abort();
    // Without the stop, this endless scan would never end and the test would time out.
    await current.progress.scanEnded;
    expect(current.progress.reads).toBeLessThan(1000);
  });

  it('cuts the response short, without its last chunk, when the log fails part-way', async () => {
    current = logOf(500, 3);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect(errors).toEqual(['audit stream cut short: the disk went away']);
  });

  it('answers an error, not a stream, when the first page cannot be read', async () => {
    current = logOf(500, 1);
    const response = await fetch(url);
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).not.toMatch(/ndjson/);
  });
});
