import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The correlation id of the work in progress (an HTTP request, a build attempt, a command),
 * carried through its async calls so that every log line written on its behalf can name it.
 * One instance per app, provided through Nest DI; the HTTP app and its logger share it.
 */
export class CorrelationScope {
  private readonly storage = new AsyncLocalStorage<string>();

  /** Runs `work` (and everything it awaits or schedules) under `correlationId`. */
  run<T>(correlationId: string, work: () => T): T {
    return this.storage.run(correlationId, work);
  }

  /** The correlation id of the current async context, if any. */
  current(): string | undefined {
    return this.storage.getStore();
  }
}
