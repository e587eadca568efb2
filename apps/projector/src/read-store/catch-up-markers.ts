import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Markers of SQLite's catch-up mode (synchronous=OFF). Each store that catches up writes its own,
 * fsynced, `<file>.catching-up.<pid>-<random>`, holding the kernel's boot id, and removes it once
 * its writes are durable again. Several processes may catch up on one file at once (the projector
 * and a rebuild), so each marker names the process it belongs to.
 *
 * When a store opens the file: a marker from an earlier boot means the OS may have crashed while
 * unsynced writes were pending, so the file cannot be trusted and is discarded (the read models are
 * rebuilt from the log). A marker from this boot whose process is gone means only that process
 * died (the OS kept every write): the marker goes, the file stays.
 */

/** Changes at every boot of the machine; unknown (never equal) where the kernel does not tell. */
export const bootId = (): string => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return `unknown-${process.pid}-${Date.now()}`;
  }
};

const syncDirectory = (path: string): void => {
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

/** Flushes a file's written pages to the disk, whoever wrote them; a file that is not there has none. */
export const fsyncFile = (path: string): void => {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const MARKER = '.catching-up';

/** The markers of `path` (the one without a pid suffix is from before markers named their process). */
const markersOf = (path: string): { file: string; pid: number | null }[] =>
  readdirSync(dirname(path))
    .filter((name) => name.startsWith(`${basename(path)}${MARKER}`))
    .map((name) => {
      const match = /\.(\d+)-[0-9a-f]+$/.exec(name);
      return { file: join(dirname(path), name), pid: match ? Number(match[1]) : null };
    });

/** At open: true when the file must be discarded; removes the markers of processes that are gone. */
export const inspectMarkers = (path: string): { discard: boolean } => {
  const boot = bootId();
  const markers = markersOf(path).map((marker) => ({ ...marker, boot: readFileSync(marker.file, 'utf8').trim() }));
  if (markers.some((marker) => marker.boot !== boot)) {
    markers.forEach((marker) => rmSync(marker.file, { force: true }));
    return { discard: true };
  }
  markers.filter((marker) => marker.pid === null || !processAlive(marker.pid)).forEach((marker) => rmSync(marker.file, { force: true }));
  return { discard: false };
};

/** One store's marker. */
export class CatchUpMarker {
  readonly file: string;

  constructor(path: string) {
    this.file = `${path}${MARKER}.${process.pid}-${randomBytes(4).toString('hex')}`;
  }

  writeDurably(): void {
    const fd = openSync(this.file, 'w');
    try {
      writeSync(fd, `${bootId()}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    syncDirectory(this.file);
  }

  removeDurably(): void {
    rmSync(this.file, { force: true });
    syncDirectory(this.file);
  }
}
