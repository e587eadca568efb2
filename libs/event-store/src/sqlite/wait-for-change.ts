import type { Database } from 'better-sqlite3';
import { EventEmitter } from 'node:events';

/**
 * Resolves when this process appends (an 'appended' event), when another process has committed to
 * the file since `sinceVersion` was read (PRAGMA data_version differs), or when any signal aborts.
 */
export const waitForChange = (
  db: Database,
  sinceVersion: number,
  appended: EventEmitter,
  pollIntervalMs: number,
  signals: readonly AbortSignal[],
): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      clearInterval(timer);
      appended.off('appended', done);
      signals.forEach((signal) => signal.removeEventListener('abort', done));
      resolve();
    };
    const timer = setInterval(() => {
      if (!db.open || db.pragma('data_version', { simple: true }) !== sinceVersion) done();
    }, pollIntervalMs);
    appended.on('appended', done);
    signals.forEach((signal) => signal.addEventListener('abort', done));
  });
