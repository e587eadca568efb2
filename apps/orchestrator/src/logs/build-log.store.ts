import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const TRUNCATED = '[log truncated: this build reached its log size limit; further output is dropped]\n';

/**
 * Build output, kept outside the event log: one append-only file per build under `dir`, at most
 * `maxBytes` long. Writers in this process wake followers at once; followers in other processes
 * notice growth by polling the file size.
 */
export class BuildLogStore {
  private readonly appended = new EventEmitter();
  private readonly sizes = new Map<string, number>();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.appended.setMaxListeners(0);
  }

  private path(buildId: string): string {
    return join(this.dir, `${buildId}.log`);
  }

  size(buildId: string): number {
    try {
      return statSync(this.path(buildId)).size;
    } catch {
      return 0;
    }
  }

  /** Appends text (lines) to a build's log, cutting it at the size limit with one marker line. */
  append(buildId: string, text: string): void {
    if (text.length === 0) return;
    const current = this.sizes.get(buildId) ?? this.size(buildId);
    const room = this.maxBytes - current;
    if (room <= 0) return;
    let chunk = Buffer.from(text, 'utf8');
    if (chunk.length > room) {
      const marker = Buffer.from(TRUNCATED);
      chunk = Buffer.concat([chunk.subarray(0, Math.max(0, room - marker.length)), marker]);
    }
    const fd = openSync(this.path(buildId), 'a');
    try {
      writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
    this.sizes.set(buildId, current + chunk.length);
    this.appended.emit(buildId);
  }

  /** Marks the log of an attempt as complete: the executor writes nothing more for it. */
  /** Marks the log complete up to `attempt`; a late seal of an earlier attempt (a lost executor's) changes nothing. */
  seal(buildId: string, attempt: number): void {
    if (attempt < this.sealedAttempt(buildId)) return;
    writeFileSync(join(this.dir, `${buildId}.sealed`), String(attempt));
    this.appended.emit(buildId);
  }

  /** The last attempt whose log is complete, 0 if none. */
  sealedAttempt(buildId: string): number {
    try {
      return Number(readFileSync(join(this.dir, `${buildId}.sealed`), 'utf8')) || 0;
    } catch {
      return 0;
    }
  }

  /** Bytes from `offset` to the current end (at most `limit`). */
  read(buildId: string, offset = 0, limit = this.maxBytes): Buffer {
    let fd: number;
    try {
      fd = openSync(this.path(buildId), 'r');
    } catch {
      return Buffer.alloc(0);
    }
    try {
      const size = statSync(this.path(buildId)).size;
      const length = Math.max(0, Math.min(limit, size - offset));
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, offset);
      return buffer;
    } finally {
      closeSync(fd);
    }
  }

  /** Resolves when this process writes to the log of `buildId`, after `pollMs` (other processes), or on abort. */
  waitForGrowth(buildId: string, offset: number, pollMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearInterval(timer);
        this.appended.off(buildId, done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setInterval(() => done(), pollMs);
      this.appended.on(buildId, done);
      signal.addEventListener('abort', done);
      if (signal.aborted || this.size(buildId) > offset) done();
    });
  }
}
