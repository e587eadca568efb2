import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CommandFailure } from './cli-support';

/** Where an export goes: written chunk by chunk, then committed (or abandoned). */
export type ExportSink = Readonly<{
  target: string;
  write: (chunk: string) => Promise<number>;
  commit: () => Promise<void>;
  abort: () => Promise<void>;
}>;

/**
 * A file that appears whole or not at all: the export is written to a temporary file beside it,
 * fsynced, renamed over the target, and the directory fsynced, so a crash or an interruption never
 * leaves a truncated export under the target's name.
 */
export const atomicFileSink = async (path: string): Promise<ExportSink> => {
  const target = resolve(path);
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
  const file = await open(temporary, 'wx', 0o600).catch((error: Error) => {
    throw new CommandFailure(`cannot write ${target}: ${error.message}`);
  });
  const syncDirectory = async () => {
    const directory = await open(dirname(target), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  };
  return {
    target,
    write: async (chunk) => {
      const bytes = Buffer.from(chunk, 'utf8');
      for (let offset = 0; offset < bytes.length; ) offset += (await file.write(bytes, offset)).bytesWritten;
      return bytes.length;
    },
    commit: async () => {
      await file.sync();
      await file.close();
      await rename(temporary, target);
      await syncDirectory();
    },
    abort: async () => {
      await file.close().catch(() => undefined);
      await rm(temporary, { force: true });
    },
  };
};

/** Standard output: for pipes (`--out -`); each chunk is handed over before the next is read. */
export const stdoutSink = (): ExportSink => {
  // A reader that goes away (`| head`) surfaces as the write's error, not as an unhandled event.
  process.stdout.on('error', () => undefined);
  return {
    target: 'standard output',
    write: (chunk) =>
      new Promise((resolveWrite, reject) => {
        process.stdout.write(chunk, (error) => {
          if (!error) return resolveWrite(Buffer.byteLength(chunk, 'utf8'));
          reject((error as NodeJS.ErrnoException).code === 'EPIPE' ? new CommandFailure('the reader of standard output went away: the export is incomplete') : error);
        });
      }),
    commit: async () => undefined,
    abort: async () => undefined,
  };
};
