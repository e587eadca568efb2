import { EventStore } from '@lib/event-store';
import { RunningApp, startApp, stopApp, withDefaultToken } from './apps';
import { awaitEvent } from './events';

export { awaitEvent };

/** One orchestrator of a cluster on a shared data directory, with the executor id it recorded at start. */
export type Instance = RunningApp & { executorId: string };

/** Starts an orchestrator and learns its executor id from the ExecutorStarted its process recorded. */
export const startInstance = async (store: EventStore, env: Record<string, string>): Promise<Instance> => {
  const app = await startApp('orchestrator', env);
  const pid = app.process.pid;
  const started = await awaitEvent(store, `ExecutorStarted of pid ${pid}`, (event) => event.type === 'ExecutorStarted' && event.data.pid === pid, 15_000);
  return Object.assign(app, { executorId: String(started.data.executor) });
};

/** Sends `signal` and resolves once the process has exited (SIGKILL, SIGTERM). */
export const killInstance = (app: RunningApp, signal: NodeJS.Signals): Promise<void> =>
  new Promise((resolve) => {
    if (app.process.exitCode !== null || app.process.signalCode !== null) return resolve();
    app.process.once('exit', () => resolve());
    app.process.kill(signal);
  });

/** Stops an instance however the test left it: a stopped (SIGSTOP) process is continued first. */
export const stopInstance = async (app: RunningApp | undefined): Promise<void> => {
  if (!app || app.process.exitCode !== null || app.process.signalCode !== null) return;
  app.process.kill('SIGCONT');
  await stopApp(app);
};

/** Resolves once the app has printed a line matching `pattern` (already printed counts). */
export const awaitOutput = (app: RunningApp, pattern: RegExp, timeoutMs = 30_000): Promise<string> =>
  new Promise((resolve, reject) => {
    const streams = [app.process.stdout!, app.process.stderr!];
    const check = () => {
      const line = app.output.find((candidate) => pattern.test(candidate));
      if (line === undefined) return;
      finish();
      resolve(line);
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${app.name} printed nothing matching ${pattern} within ${timeoutMs} ms:\n${app.output.join('\n')}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      // Registered after the app's own line reader: by the time a chunk reaches `check`, its lines are in `output`.
      streams.forEach((stream) => stream.off('data', check));
    };
    streams.forEach((stream) => stream.on('data', check));
    check();
  });

/**
 * Follows a build's log through an orchestrator's API (server-sent events) until the text received
 * satisfies `done`; resolves with that text. The log is shared by all the attempts of a build.
 */
export const followLogUntil = async (url: string, buildId: string, done: (text: string) => boolean): Promise<string> => {
  const response = await fetch(`${url}/builds/${buildId}/logs?follow=true`, { headers: withDefaultToken(url) });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let received = '';
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    received += decoder.decode(chunk.value, { stream: true });
    if (done(received)) {
      await reader.cancel();
      return received;
    }
  }
  throw new Error(`the log of ${buildId} ended before the awaited output:\n${received}`);
};
