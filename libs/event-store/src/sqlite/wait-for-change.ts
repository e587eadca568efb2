import type { Database } from 'better-sqlite3';
import { EventEmitter } from 'node:events';

/**
 * Resolves when this process appends (an 'appended' event), when another process commits to the
 * file (PRAGMA data_version changes), or when any signal aborts.
 */
export const waitForChange = (
  db: Database,
  appended: EventEmitter,
  pollIntervalMs: number,
  signals: readonly AbortSignal[],
): Promise<void> =>
  new Promise((resolve) => {
    const initialVersion = db.open ? db.pragma('data_version', { simple: true }) : 0;
    const done = () => {
      clearInterval(timer);
      appended.off('appended', done);
      signals.forEach((signal) => signal.removeEventListener('abort', done));
      resolve();
    };
    const timer = setInterval(() => {
      if (!db.open || db.pragma('data_version', { simple: true }) !== initialVersion) done();
    }, pollIntervalMs);
    appended.on('appended', done);
    signals.forEach((signal) => signal.addEventListener('abort', done));
  });
