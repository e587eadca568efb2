import { Worker } from 'node:worker_threads';
import { EventStoreUnavailableError } from '../errors';
import type { RecordedEvent } from '../event-store.port';
import { workerScript } from '../worker-script';
import { inPositionOrder } from './sqlite-event-page';
import type { ReadAheadPage, ReadAheadRequest } from './sqlite-read-ahead.worker';

/** A page read by the worker thread, its events parsed on this one. */
export type PageReadAhead = Readonly<{ events: RecordedEvent[]; reached: number }>;

/**
 * Reads the pages of `request` in a worker thread and yields them in log order: the SQLite steps
 * happen on the other thread, this one only decodes and parses. Ends after the page that reaches
 * `request.upTo`, or at once when a signal aborts; a failure of the thread is thrown. However it
 * ends, the thread is gone when the generator is done; `threads` holds it while it lives.
 */
export async function* readAhead(
  request: ReadAheadRequest,
  signals: readonly AbortSignal[],
  threads: Set<Worker>,
): AsyncGenerator<PageReadAhead> {
  const worker = new Worker(workerScript(__dirname, 'sqlite-read-ahead.worker'), { workerData: request });
  threads.add(worker);
  worker.once('exit', () => threads.delete(worker));
  const inbox = new Inbox(worker, signals);
  try {
    for (let reached = request.after; reached < request.upTo; ) {
      const page = await inbox.next();
      if (!page) return;
      worker.postMessage(null); // taken: the thread may read the next page while this one is parsed
      reached = page.reached;
      yield { events: parsePage(page), reached };
    }
  } finally {
    inbox.close();
    await worker.terminate();
  }
}

const parsePage = ({ json, ascii }: ReadAheadPage): RecordedEvent[] => {
  // Pure ASCII, the common case, decodes as Latin-1: a plain copy, where UTF-8 decoding scans it.
  const text = Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString(ascii ? 'latin1' : 'utf8');
  return inPositionOrder(JSON.parse(text) as RecordedEvent[]);
};

/** The pages a worker has posted and not yet handed out, and how it ended. */
class Inbox {
  private readonly pages: ReadAheadPage[] = [];
  private failure?: { error: unknown };
  private exitCode?: number;
  private wake = () => {};
  private readonly notify = () => this.wake();

  constructor(
    worker: Worker,
    private readonly signals: readonly AbortSignal[],
  ) {
    worker.on('message', (page: ReadAheadPage) => {
      this.pages.push(page);
      this.notify();
    });
    const fail = (error: unknown) => {
      this.failure ??= { error };
      this.notify();
    };
    worker.on('error', fail);
    worker.on('messageerror', fail);
    worker.on('exit', (code: number) => {
      this.exitCode = code;
      this.notify();
    });
    signals.forEach((signal) => signal.addEventListener('abort', this.notify));
  }

  /** The next page in order; undefined once a signal has aborted. */
  async next(): Promise<ReadAheadPage | undefined> {
    for (;;) {
      if (this.signals.some((signal) => signal.aborted)) return undefined;
      const page = this.pages.shift();
      if (page) return page;
      if (this.failure) throw failed(messageOf(this.failure.error), this.failure.error);
      if (this.exitCode !== undefined) throw failed(`the thread ended (exit code ${this.exitCode}) before reaching the head`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  close(): void {
    this.signals.forEach((signal) => signal.removeEventListener('abort', this.notify));
  }
}

const failed = (reason: string, cause?: unknown): EventStoreUnavailableError =>
  new EventStoreUnavailableError(`Reading ahead of a subscription failed: ${reason}`, cause);

/**
 * Node rebuilds a thread's error from its properties, on the Error prototype of the main realm,
 * which need not be the caller's (jest runs tests in a vm context): no instanceof, no isNativeError.
 */
const messageOf = (error: unknown): string =>
  typeof (error as { message?: unknown } | null)?.message === 'string' ? (error as Error).message : String(error);
