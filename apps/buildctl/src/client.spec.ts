import { ApiClient, parseEventBlock, serverSentEvents } from './client';

async function* chunksOf(...chunks: string[]): AsyncGenerator<string> {
  yield* chunks;
}

const collect = async <T>(events: AsyncIterable<T>): Promise<T[]> => {
  const all: T[] = [];
  for await (const event of events) all.push(event);
  return all;
};

describe('server-sent events', () => {
  it('assembles events split across chunks, multi-line data, ids, and skips comments', async () => {
    const events = await collect(serverSentEvents(chunksOf('id: 12\nevent: log\ndata: line one\nda', 'ta: line two\n\n: keep-alive\n\n', 'event: end\ndata: {"status":"pushed"}\r\n\r\n')));
    expect(events).toEqual([
      { event: 'log', data: 'line one\nline two', id: '12' },
      { event: 'end', data: '{"status":"pushed"}', id: null },
    ]);
  });

  it('keeps an empty last data line as a trailing newline, as the specification says', () => {
    expect(parseEventBlock('event: log\ndata: a\ndata: ')).toEqual({ event: 'log', data: 'a\n', id: null });
  });

  it('drops a block without data', () => {
    expect(parseEventBlock('event: log')).toBeNull();
  });
});

describe('ApiClient', () => {
  it('builds URLs from the base, the path and the set query parameters only', () => {
    const client = new ApiClient({ orchestratorUrl: 'http://o:3000/', projectorUrl: 'http://p:3001/prefix', token: 't' });
    expect(client.url('orchestrator', '/builds', { org: 'acme', cursor: undefined })).toBe('http://o:3000/builds?org=acme');
    expect(client.url('projector', '/builds', { status: 'failed,expired', limit: 5 })).toBe('http://p:3001/prefix/builds?status=failed%2Cexpired&limit=5');
  });
});
