import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { GitSource } from '@lib/domain';

export class SourceFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceFetchError';
  }
}

/** git with no prompts, no hooks, and only the transports a build source may use. */
const GIT_CONFIG = [
  '-c', 'core.hooksPath=/dev/null',
  '-c', 'protocol.allow=never',
  '-c', 'protocol.file.allow=always',
  '-c', 'protocol.https.allow=always',
  '-c', 'protocol.ssh.allow=always',
  '-c', 'advice.detachedHead=false',
];

/** Fetches a build's source into a fresh work directory with the git CLI. */
export class SourceFetcher {
  constructor(private readonly timeoutMs: number) {}

  /** Checks out `source.ref` (branch, tag or commit) into `dir`; returns the commit it resolved to. */
  async fetch(source: GitSource, dir: string, signal: AbortSignal): Promise<string> {
    mkdirSync(dir, { recursive: true });
    await this.git(['init', '-q', dir], signal);
    const fetched = await this.git(['-C', dir, 'fetch', '-q', '--depth', '1', '--no-tags', '--', source.url, source.ref], signal).then(
      () => true,
      (error: Error) => {
        if (signal.aborted || !/^[0-9a-f]{7,40}$/.test(source.ref)) throw error;
        return false; // a commit a server will not serve shallowly: fetch everything, then pick it
      },
    );
    if (fetched) {
      await this.git(['-C', dir, 'checkout', '-q', '--detach', 'FETCH_HEAD'], signal);
    } else {
      await this.git(['-C', dir, 'fetch', '-q', '--no-tags', '--', source.url, '+refs/heads/*:refs/remotes/origin/*'], signal);
      await this.git(['-C', dir, 'checkout', '-q', '--detach', source.ref], signal);
    }
    return (await this.git(['-C', dir, 'rev-parse', 'HEAD'], signal)).trim();
  }

  private git(args: string[], signal: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        'git',
        [...GIT_CONFIG, ...args],
        {
          signal,
          timeout: this.timeoutMs,
          maxBuffer: 1024 * 1024,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, GIT_TERMINAL_PROMPT: '0', GIT_SSH_COMMAND: 'ssh -o BatchMode=yes', LANG: 'C' },
        },
        (error, stdout, stderr) => {
          if (!error) return resolve(stdout);
          if (signal.aborted) return reject(signal.reason);
          const reason = error.killed ? `git timed out after ${this.timeoutMs / 1000}s` : stderr.trim() || error.message;
          reject(new SourceFetchError(reason));
        },
      );
    });
  }
}
