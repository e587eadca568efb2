import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A TCP proxy for tests that sits between a client (e.g. the Docker engine) and a target (e.g. a
 * registry) and injects network faults, switchable while a test runs.
 */
export type FaultMode =
  | { kind: 'pass' } // forward bytes both ways
  | { kind: 'latency'; ms: number } // forward, but delay every chunk in both directions by ms (order kept)
  | { kind: 'stall' } // accept, never forward, never answer (reads and drops); open connections stop forwarding too
  | { kind: 'reset' } // new connections are reset at once; open ones are reset on switch
  | { kind: 'refuse' }; // stop listening (ECONNREFUSED); listen again on the same port on the next switch

export type FaultProxyStats = { accepted: number; active: number; bytesUp: number; bytesDown: number };

type Target = { host: string; port: number };

const END = Symbol('end');
type Chunk = Buffer | typeof END;

/** Writes chunks to one socket in arrival order, each no earlier than its due time. */
class DelayLine {
  private readonly queue: { due: number; chunk: Chunk }[] = [];
  private lastDue = 0;
  private timer?: NodeJS.Timeout;
  private awaitingDrain = false;

  constructor(private readonly from: Socket, private readonly to: Socket, private readonly forwarded: (bytes: number) => void) {}

  push(chunk: Chunk, delayMs: number): void {
    // A chunk is never due before the one ahead of it: lowering the latency must not reorder bytes.
    this.lastDue = Math.max(performance.now() + delayMs, this.lastDue);
    this.queue.push({ due: this.lastDue, chunk });
    if (!this.timer) this.flush();
  }

  clear(): void {
    this.queue.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly flush = (): void => {
    this.timer = undefined;
    while (this.queue.length > 0) {
      const wait = this.queue[0].due - performance.now();
      if (wait > 0) {
        this.timer = setTimeout(this.flush, Math.ceil(wait));
        return;
      }
      this.deliver(this.queue.shift()!.chunk);
    }
  };

  private deliver(chunk: Chunk): void {
    if (this.to.destroyed) return;
    if (chunk === END) {
      this.to.end();
      return;
    }
    this.forwarded(chunk.length);
    if (!this.to.write(chunk) && !this.awaitingDrain) {
      this.awaitingDrain = true;
      this.from.pause();
      this.to.once('drain', () => {
        this.awaitingDrain = false;
        this.from.resume();
      });
    }
  }
}

/** One accepted client connection and, unless it was accepted while stalling, its upstream. */
class Relay {
  private upstream?: Socket;
  private toUpstream?: DelayLine;
  private toClient?: DelayLine;
  private stalled = false;

  constructor(readonly client: Socket) {}

  get isStalled(): boolean {
    return this.stalled;
  }

  /** Reads and drops whatever the client sends: nothing is forwarded, nothing answered. */
  holdStalled(): void {
    this.stalled = true;
    this.client.on('data', () => undefined);
  }

  forward(upstream: Socket, delayMs: () => number, counts: { bytesUp: number; bytesDown: number }): void {
    this.upstream = upstream;
    this.toUpstream = new DelayLine(this.client, upstream, (bytes) => (counts.bytesUp += bytes));
    this.toClient = new DelayLine(upstream, this.client, (bytes) => (counts.bytesDown += bytes));
    this.client.on('data', (chunk: Buffer) => this.stalled || this.toUpstream!.push(chunk, delayMs()));
    upstream.on('data', (chunk: Buffer) => this.stalled || this.toClient!.push(chunk, delayMs()));
    this.client.on('end', () => this.stalled || this.toUpstream!.push(END, delayMs()));
    upstream.on('end', () => this.stalled || this.toClient!.push(END, delayMs()));
    // An upstream that fails (including failing to connect) takes the client with it, and vice versa.
    upstream.once('close', (hadError) => hadError && this.client.destroy());
    this.client.once('close', (hadError) => hadError && upstream.destroy());
  }

  /** Stops forwarding both ways and keeps both sockets open; reading goes on, and is dropped. */
  stall(): void {
    this.stalled = true;
    this.toUpstream?.clear();
    this.toClient?.clear();
    this.client.resume();
    this.upstream?.resume();
  }

  destroy(): void {
    this.stall();
    this.client.destroy();
    this.upstream?.destroy();
  }

  reset(): void {
    this.stall();
    resetSocket(this.client);
    if (this.upstream) resetSocket(this.upstream);
  }
}

const resetSocket = (socket: Socket): void => {
  if (!socket.destroyed) socket.resetAndDestroy();
};

const closed = (socket: Socket): Promise<void> =>
  socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));

export class FaultProxy {
  private readonly relays = new Set<Relay>();
  private readonly sockets = new Set<Socket>();
  private readonly counts = { accepted: 0, bytesUp: 0, bytesDown: 0 };
  private current: FaultMode;
  private switching: Promise<void> = Promise.resolve();
  private closing = false;

  private constructor(private readonly server: Server, readonly port: number, private readonly target: Target, mode: FaultMode) {
    this.current = mode;
    server.on('connection', (client) => this.accept(client));
    server.on('error', () => undefined); // listen errors are reported by listen(); nothing else may crash a test
  }

  /** Listens on 127.0.0.1, on a free port, and forwards to `target` as `mode` says (default: pass). */
  static async start(target: Target, mode: FaultMode = { kind: 'pass' }): Promise<FaultProxy> {
    const server = createServer({ allowHalfOpen: true });
    await listen(server, 0);
    // The constructor attaches the connection handler before any connection can be dispatched.
    const proxy = new FaultProxy(server, (server.address() as AddressInfo).port, target, { kind: 'pass' });
    await proxy.setMode(mode);
    return proxy;
  }

  get addr(): string {
    return `127.0.0.1:${this.port}`;
  }

  get mode(): FaultMode {
    return this.current;
  }

  /** bytesUp/bytesDown count bytes forwarded to the target / back to clients; dropped bytes do not count. */
  get stats(): FaultProxyStats {
    return { ...this.counts, active: this.relays.size };
  }

  /** Resolves once `mode` is in effect: for refuse, the server is closed; from refuse, it listens again. */
  setMode(mode: FaultMode): Promise<void> {
    const applied = this.switching.then(() => this.apply(mode));
    this.switching = applied.catch(() => undefined);
    return applied;
  }

  /** Destroys every connection and the server. */
  async close(): Promise<void> {
    this.closing = true;
    await this.switching;
    const sockets = [...this.sockets];
    for (const relay of this.relays) relay.destroy();
    sockets.forEach((socket) => socket.destroy());
    await Promise.all(sockets.map(closed));
    if (this.server.listening) await stopListening(this.server);
  }

  private async apply(mode: FaultMode): Promise<void> {
    if (this.closing) throw new Error('FaultProxy is closed');
    const previous = this.current;
    this.current = mode;
    switch (mode.kind) {
      case 'pass':
      case 'latency':
        // Stalled connections dropped what they read: they cannot resume, so clients must reconnect.
        if (previous.kind === 'stall') this.eachRelay((relay) => relay.isStalled && relay.destroy());
        break;
      case 'stall':
        this.eachRelay((relay) => relay.stall());
        break;
      case 'reset':
        this.eachRelay((relay) => relay.reset());
        break;
      case 'refuse':
        this.eachRelay((relay) => relay.reset());
        if (this.server.listening) await stopListening(this.server);
        return;
      default: {
        const unknown: never = mode;
        throw new Error(`unknown fault mode ${JSON.stringify(unknown)}`);
      }
    }
    if (!this.server.listening) await this.listenAgain();
  }

  /** Back on the same port after refuse; if someone took the port meanwhile, the proxy stays refusing. */
  private async listenAgain(): Promise<void> {
    try {
      await listen(this.server, this.port);
    } catch (error) {
      this.current = { kind: 'refuse' };
      throw new Error(`FaultProxy cannot listen again on ${this.addr}: ${(error as Error).message}`);
    }
  }

  private eachRelay(action: (relay: Relay) => void): void {
    [...this.relays].forEach(action);
  }

  private accept(client: Socket): void {
    this.counts.accepted++;
    this.track(client);
    if (this.closing || this.current.kind === 'reset' || this.current.kind === 'refuse') {
      resetSocket(client);
      return;
    }
    const relay = new Relay(client);
    this.relays.add(relay);
    client.once('close', () => this.relays.delete(relay));
    client.setNoDelay(true);
    if (this.current.kind === 'stall') {
      relay.holdStalled();
      return;
    }
    const upstream = this.track(createConnection({ ...this.target, allowHalfOpen: true }));
    upstream.setNoDelay(true);
    relay.forward(upstream, () => (this.current.kind === 'latency' ? this.current.ms : 0), this.counts);
  }

  /** Every socket gets an error handler (ECONNRESET and the like must never crash a test) and is tracked for close(). */
  private track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }
}

const listen = (server: Server, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    server.once('error', failed);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', failed);
      resolve();
    });
  });

const stopListening = (server: Server): Promise<void> =>
  new Promise((resolve) => server.close(() => resolve()));
