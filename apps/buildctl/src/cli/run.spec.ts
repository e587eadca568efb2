import { COMMANDS } from '../commands';
import { runCli } from './run';

const SECRET = 'bo.someone.0123456789abcdef.SECRETSECRETSECRETSECRETSECRETSECRETSECRET';

/** runCli with a fake fetch that answers every request with one response, recording the requests. */
const runWith = async (argv: string[], answer: () => Response | Promise<Response>) => {
  const output = { out: '', err: '' };
  const requests: { url: string; init: RequestInit }[] = [];
  const fakeFetch = (async (url: string, init: RequestInit) => {
    requests.push({ url, init });
    return answer();
  }) as unknown as typeof fetch;
  const code = await runCli(argv, {
    env: { BUILDCTL_TOKEN: SECRET, BUILDCTL_ORCHESTRATOR_URL: 'http://o', BUILDCTL_PROJECTOR_URL: 'http://p' },
    io: { out: (text) => (output.out += text), err: (text) => (output.err += text) },
    readFile: () => '',
    fetch: fakeFetch,
  }, COMMANDS);
  return { code, ...output, requests };
};

const problem = (status: number, body: object, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json', ...headers } });

describe('runCli', () => {
  it.each([
    [401, 3], [403, 3], [404, 4], [409, 5], [422, 5], [429, 5], [400, 2], [500, 6], [503, 6],
  ])('exits with the documented code for HTTP %i (%i), printing the problem and never the token', async (status, code) => {
    const run = await runWith(['builds', 'cancel', '01a21b76-39e8-7c1d-993f-50fcf8127bdd'], () => problem(status, { title: `Title ${status}`, detail: 'why' }, { 'retry-after': '3' }));
    expect(run.code).toBe(code);
    expect(run.err).toBe(`buildctl: Title ${status} (HTTP ${status}): why\n  retry after 3 s\n`);
    expect(run.out + run.err).not.toContain('SECRET');
  });

  it('sends the token as a bearer header to the right app and body to the right path', async () => {
    const run = await runWith(['submit', '--org', 'acme', '--repo', 'hello', '--git-url', '/src/hello', '--priority', '9', '--idempotency-key', 'k1'], () =>
      new Response(JSON.stringify({ buildId: 'b', status: 'queued', position: 4 }), { status: 202 }));
    expect(run).toMatchObject({ code: 0, out: 'b queued (position 4)\n', err: '' });
    expect(run.requests).toHaveLength(1);
    expect(run.requests[0].url).toBe('http://o/builds');
    expect(run.requests[0].init.headers).toMatchObject({ authorization: `Bearer ${SECRET}`, 'idempotency-key': 'k1' });
    expect(JSON.parse(String(run.requests[0].init.body))).toEqual({ org: 'acme', repo: 'hello', source: { git: { url: '/src/hello' } }, priority: 9 });
  });

  it('follows the log after submitting and exits 1 when the build did not push', async () => {
    const answers = [
      new Response(JSON.stringify({ buildId: 'b', status: 'queued', position: 4 }), { status: 202 }),
      new Response('id: 5\nevent: log\ndata: step 1\n\nevent: end\ndata: {"status":"failed"}\n\n', { status: 200, headers: { 'content-type': 'text/event-stream' } }),
    ];
    const run = await runWith(['submit', '--org', 'acme', '--repo', 'hello', '--git-url', '/src/hello', '--follow'], () => answers.shift()!);
    expect(run).toMatchObject({ code: 1, out: 'b queued (position 4)\nstep 1\nbuild b: failed\n' });
    expect(run.requests[1].url).toBe('http://o/builds/b/logs?follow=true');
  });

  it('reopens a broken log stream from the last offset received', async () => {
    let pulls = 0;
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        // The first read gets one event, the next one finds the connection reset.
        if ((pulls += 1) === 1) controller.enqueue(new TextEncoder().encode('id: 7\nevent: log\ndata: step 1\n\n'));
        else controller.error(new Error('socket hang up'));
      },
    });
    const answers = [
      new Response(broken, { status: 200 }),
      new Response('id: 14\nevent: log\ndata: step 2\n\nevent: end\ndata: {"status":"pushed"}\n\n', { status: 200 }),
    ];
    const run = await runWith(['builds', 'logs', 'b', '--follow'], () => answers.shift()!);
    expect(run).toMatchObject({ code: 0, out: 'step 1\nstep 2\nbuild b: pushed\n' });
    expect(run.err).toMatch(/^buildctl: the log stream broke off: .*; reconnecting from byte 7\n$/);
    expect(run.requests[1].init.headers).toMatchObject({ 'last-event-id': '7' });
  });

  it('gives up with exit 6 when the log stream cannot be reopened', async () => {
    const run = await runWith(['builds', 'logs', 'b', '--follow'], () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    });
    expect(run.code).toBe(6);
    expect(run.requests).toHaveLength(4);
  });

  it('is exit 6 when the service cannot be reached', async () => {
    const run = await runWith(['builds', 'list'], () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    });
    expect(run).toMatchObject({ code: 6, err: 'buildctl: cannot reach the projector at http://p: ECONNREFUSED\n' });
  });

  it('prints a usage error with the command\'s usage', async () => {
    const run = await runWith(['submit', '--org', 'acme'], () => problem(500, {}));
    expect(run.code).toBe(2);
    expect(run.err).toBe('buildctl: --repo is required\n\nusage: buildctl submit [options]\nRun "buildctl submit --help" for its options, environment and exit codes.\n');
    expect(run.requests).toHaveLength(0);
  });
});
