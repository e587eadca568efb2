import { workerScript } from '@lib/event-store';
import { Worker } from 'node:worker_threads';
import { DocumentRows } from './sqlite-document-writer';
import { GenerationMovedError } from './read-store.port';

export type WriterSetup = Readonly<{ path: string; pragmas: readonly string[] }>;

export type WriterRequest =
  | Readonly<{ kind: 'commit'; id: number; batches: readonly DocumentRows[]; at: string }>
  | Readonly<{ kind: 'close'; id: number }>;

export type WriterReply = Readonly<{
  id: number;
  error?: Readonly<{ name: string; message: string; code?: string; moved?: GenerationMovedError['moved'] }>;
}>;

type Pending = { resolve: () => void; reject: (error: Error) => void };

const revive = (error: NonNullable<WriterReply['error']>): Error => {
  if (error.name === 'GenerationMovedError' && error.moved) return new GenerationMovedError(error.moved);
  return Object.assign(new Error(`read store writer thread: ${error.message}`), { name: error.name, code: error.code });
};

/**
 * A thread that commits a SQLite read store's batches on a connection of its own, so that a long
 * replay folds its next batch on the main thread while the previous one is written: on two cores
 * the SQLite work (upserts, commits, WAL) no longer adds to the folding. Batches are committed one
 * at a time, in the order they are sent; each `commit` resolves once its transaction is committed,
 * or rejects with its error (a GenerationMovedError as such). SQLite's own locking orders this
 * connection's transactions with every other writer of the file.
 */
export class SqliteWriterThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;
  private last: Promise<void> = Promise.resolve();
  private readonly exited: Promise<void>;

  constructor(setup: WriterSetup) {
    this.worker = new Worker(workerScript(__dirname, 'sqlite-writer.worker'), { workerData: setup });
    this.worker.on('message', (reply: WriterReply) => {
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error) pending?.reject(revive(reply.error));
      else pending?.resolve();
    });
    this.exited = new Promise((resolve) => {
      const fail = (error: Error) => {
        this.failure ??= error;
        this.pending.forEach(({ reject }) => reject(this.failure!));
        this.pending.clear();
      };
      this.worker.on('error', fail);
      this.worker.on('exit', (code) => {
        fail(new Error(`read store writer thread exited (code ${code})`));
        resolve();
      });
    });
  }

  commit(batches: readonly DocumentRows[], at: string): Promise<void> {
    const done = this.request({ kind: 'commit', id: this.nextId++, batches, at });
    this.last = done.catch(() => undefined);
    return done;
  }

  /** Resolves once every commit sent so far has ended. */
  idle(): Promise<void> {
    return this.last;
  }

  /** Waits for the commits sent so far, closes the thread's connection and ends the thread. */
  async close(): Promise<void> {
    await this.idle();
    if (!this.failure) await this.request({ kind: 'close', id: this.nextId++ }).catch(() => undefined);
    await this.worker.terminate();
    await this.exited;
  }

  private request(request: WriterRequest): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.worker.postMessage(request);
    });
  }
}
