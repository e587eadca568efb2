import Docker from 'dockerode';
import { Readable } from 'node:stream';

/** Connects dockerode to a DOCKER_HOST-style address. */
export const dockerClient = (dockerHost: string): Docker => {
  if (dockerHost.startsWith('unix://')) return new Docker({ socketPath: dockerHost.slice('unix://'.length) });
  const url = new URL(dockerHost);
  return new Docker({ host: url.hostname, port: Number(url.port), protocol: 'http' });
};

export type ProgressMessage = {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string; Tag?: string; Digest?: string; Size?: number };
};

/**
 * Reads the engine's JSON progress stream (one object per line, or several per chunk) and calls
 * `onMessage` for each. Resolves when the stream ends, rejects if it breaks or the signal aborts.
 */
export const readProgress = (stream: Readable, onMessage: (message: ProgressMessage) => void, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    let pending = '';
    const abort = () => {
      stream.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    const finish = (error?: Error) => {
      signal.removeEventListener('abort', abort);
      if (signal.aborted) return;
      if (pending.trim()) onMessage(JSON.parse(pending) as ProgressMessage);
      error ? reject(error) : resolve();
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onMessage(JSON.parse(line) as ProgressMessage);
    });
    stream.once('end', () => finish());
    stream.once('error', (error) => finish(error));
  });
