import { once } from 'node:events';
import { Agent, createServer as createHttpServer, request, Server as HttpServer } from 'node:http';
import { AddressInfo, connect, createServer, Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { FaultMode, FaultProxy } from './support/fault-proxy';

/** The fault proxy in front of a local echo server and a local HTTP server, on loopback only. */
describe('FaultProxy', () => {
  let echo: Server;
  let web: HttpServer;
  const proxies: FaultProxy[] = [];
  const clients: Socket[] = [];

  beforeAll(async () => {
    echo = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    web = createHttpServer((req, res) => res.end(`hello from ${req.url}`));
    await Promise.all([listenLocal(echo), listenLocal(web)]);
  });
  afterEach(async () => {
    clients.forEach((socket) => socket.destroy());
    clients.length = 0;
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });
  afterAll(async () => {
    web.closeAllConnections();
    await Promise.all([new Promise((resolve) => echo.close(resolve)), new Promise((resolve) => web.close(resolve))]);
  });

  const proxyTo = async (target: Server | HttpServer | number, mode?: FaultMode): Promise<FaultProxy> => {
    const port = typeof target === 'number' ? target : (target.address() as AddressInfo).port;
    const proxy = await FaultProxy.start({ host: '127.0.0.1', port }, mode);
    proxies.push(proxy);
    return proxy;
  };

  /** An open connection through the proxy, ready for round trips. */
  const open = async (proxy: FaultProxy): Promise<Socket> => {
    const socket = connect(proxy.port, '127.0.0.1');
    clients.push(socket);
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    return socket;
  };

  describe('given pass', () => {
    it('when a client talks to the echo server, then the bytes go both ways and are counted', async () => {
      const proxy = await proxyTo(echo);
      const socket = await open(proxy);
      expect(await roundTrip(socket, 'hello')).toBe('hello');
      expect(proxy.addr).toBe(`127.0.0.1:${proxy.port}`);
      expect(proxy.mode).toEqual({ kind: 'pass' });
      expect(proxy.stats).toEqual({ accepted: 1, active: 1, bytesUp: 5, bytesDown: 5 });
    });

    it('when an HTTP request goes through, then it is answered', async () => {
      const proxy = await proxyTo(web);
      expect(await get(proxy.port, '/v2/')).toEqual({ status: 200, body: 'hello from /v2/' });
    });

    it('when the client ends its side, then the end reaches the server and comes back', async () => {
      const socket = await open(await proxyTo(echo));
      const received = collect(socket);
      socket.end('bye');
      await once(socket, 'close');
      expect(received()).toBe('bye');
    });

    it('when the target is down, then the client connection is closed without data', async () => {
      const down = createServer();
      await listenLocal(down);
      const { port } = down.address() as AddressInfo;
      await new Promise((resolve) => down.close(resolve));
      const socket = await open(await proxyTo(port));
      const received = collect(socket);
      await once(socket, 'close');
      expect(received()).toBe('');
    });

    it('when the proxy closes, then every connection is destroyed and none is active', async () => {
      const proxy = await proxyTo(echo);
      const sockets = await Promise.all([open(proxy), open(proxy)]);
      await Promise.all(sockets.map((socket) => roundTrip(socket, 'x')));
      expect(proxy.stats).toMatchObject({ accepted: 2, active: 2 });
      await proxy.close();
      await Promise.all(sockets.map((socket) => socket.closed || once(socket, 'close')));
      expect(proxy.stats.active).toBe(0);
    });
  });

  describe('given latency', () => {
    it('when a round trip is made, then it takes at least the latency each way', async () => {
      const socket = await open(await proxyTo(echo, { kind: 'latency', ms: 150 }));
      const started = performance.now();
      await roundTrip(socket, 'ping');
      expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    });

    it('when many chunks are sent and the latency is lowered midway, then they arrive in order', async () => {
      const proxy = await proxyTo(echo, { kind: 'latency', ms: 100 });
      const socket = await open(proxy);
      const parts = Array.from({ length: 50 }, (_, index) => `<${index}>`);
      const echoed = received(socket, Buffer.byteLength(parts.join('')));
      parts.slice(0, 25).forEach((part) => socket.write(part));
      await proxy.setMode({ kind: 'pass' });
      parts.slice(25).forEach((part) => socket.write(part));
      expect(await echoed).toBe(parts.join(''));
    });
  });

  describe('given stall', () => {
    it('when a request is sent, then the connection is accepted but not answered after 300 ms', async () => {
      const proxy = await proxyTo(web, { kind: 'stall' });
      const controller = new AbortController();
      const answer = get(proxy.port, '/v2/', controller.signal);
      expect(await Promise.race([answer, notBefore(300)])).toBe('still waiting');
      expect(proxy.stats).toMatchObject({ accepted: 1, active: 1, bytesUp: 0, bytesDown: 0 });
      controller.abort();
      await expect(answer).rejects.toThrow();
    });

    it('when a connection is open at the switch, then it stays open and forwards nothing', async () => {
      const proxy = await proxyTo(echo);
      const socket = await open(proxy);
      await roundTrip(socket, 'before');
      await proxy.setMode({ kind: 'stall' });
      expect(await Promise.race([roundTrip(socket, 'during'), notBefore(300)])).toBe('still waiting');
      expect(socket.closed).toBe(false);
      expect(proxy.stats).toMatchObject({ active: 1, bytesUp: 6, bytesDown: 6 });
    });

    it('when switched back to pass, then stalled connections are closed and new ones are answered', async () => {
      const proxy = await proxyTo(web, { kind: 'stall' });
      const stalled = await open(proxy);
      await proxy.setMode({ kind: 'pass' });
      await once(stalled, 'close');
      expect(await get(proxy.port, '/again')).toEqual({ status: 200, body: 'hello from /again' });
    });
  });

  describe('given reset', () => {
    it('when a client connects, then its connection is reset at once', async () => {
      const proxy = await proxyTo(web, { kind: 'reset' });
      await expect(get(proxy.port, '/v2/')).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(proxy.stats).toMatchObject({ accepted: 1, active: 0 });
    });

    it('when a connection is open at the switch, then it is reset; after pass, new ones work', async () => {
      const proxy = await proxyTo(echo);
      const socket = await open(proxy);
      await roundTrip(socket, 'before');
      const failure = once(socket, 'error');
      await proxy.setMode({ kind: 'reset' });
      expect(await failure).toEqual([expect.objectContaining({ code: 'ECONNRESET' })]);
      await proxy.setMode({ kind: 'pass' });
      expect(await roundTrip(await open(proxy), 'after')).toBe('after');
    });
  });

  describe('given refuse', () => {
    it('when switched to refuse and back, then open connections are reset, new ones refused, then accepted on the same port', async () => {
      const proxy = await proxyTo(web);
      const port = proxy.port;
      const socket = await open(proxy);
      const failure = once(socket, 'error');
      await proxy.setMode({ kind: 'refuse' });
      expect(await failure).toEqual([expect.objectContaining({ code: 'ECONNRESET' })]);
      await expect(get(port, '/v2/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await proxy.setMode({ kind: 'pass' });
      expect(proxy.port).toBe(port);
      expect(await get(port, '/v2/')).toEqual({ status: 200, body: 'hello from /v2/' });
    });

    it('when started in refuse, then connections are refused until another mode is set', async () => {
      const proxy = await proxyTo(echo, { kind: 'refuse' });
      await expect(get(proxy.port, '/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await proxy.setMode({ kind: 'latency', ms: 10 });
      expect(await roundTrip(await open(proxy), 'back')).toBe('back');
      expect(proxy.stats.accepted).toBe(1);
    });
  });
});

// ---------------------------------------------------------------- helpers

const listenLocal = (server: Server | HttpServer): Promise<void> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve()));

/** Gathers what a socket receives; call the returned function to read it. */
const collect = (socket: Socket): (() => string) => {
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  return () => received;
};

/** Resolves with what the socket receives once it has received `bytes` bytes. */
const received = (socket: Socket, bytes: number): Promise<string> =>
  new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk;
      if (Buffer.byteLength(text) < bytes) return;
      socket.off('data', onData);
      resolve(text);
    };
    socket.on('data', onData);
  });

/** Writes `text` and resolves once as many bytes have come back. */
const roundTrip = (socket: Socket, text: string): Promise<string> => {
  const echoed = received(socket, Buffer.byteLength(text));
  socket.write(text);
  return echoed;
};

/** One HTTP GET on a connection of its own (no keep-alive pool shared between tests). */
const get = (port: number, path: string, signal?: AbortSignal): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: new Agent({ keepAlive: false }), signal }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });

/** The stimulus for "not answered yet": a timer that resolves after ms. */
const notBefore = (ms: number): Promise<'still waiting'> => new Promise((resolve) => setTimeout(() => resolve('still waiting'), ms));
