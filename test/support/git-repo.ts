import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Makes a git repository with the given files committed on branch `main`; returns its path. */
export const gitRepository = (files: Record<string, string>, root = mkdtempSync(join(tmpdir(), 'src-'))): string => {
  const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { stdio: 'pipe' });
  execFileSync('git', ['init', '-q', '-b', 'main', root]);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  git('add', '.');
  git('-c', 'user.email=tests@example.com', '-c', 'user.name=tests', 'commit', '-q', '-m', 'source');
  return root;
};

export const BASE_IMAGE = process.env.BASE_IMAGE ?? 'local/busybox:latest';
