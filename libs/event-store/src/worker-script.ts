import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const packageRoot = (directory: string): string => {
  for (let current = directory; ; current = dirname(current)) {
    if (existsSync(join(current, 'package.json'))) return current;
    if (dirname(current) === current) throw new Error(`no package.json above ${directory}`);
  }
};

/**
 * The JavaScript file of a worker thread's module `name` that lives in `directory`: beside it when
 * running compiled (dist/), else its compiled twin under dist/ (tests run the TypeScript sources,
 * and jest's global setup compiles dist/ first; a thread cannot load TypeScript).
 */
export const workerScript = (directory: string, name: string): string => {
  const beside = join(directory, `${name}.js`);
  if (existsSync(beside)) return beside;
  const root = packageRoot(directory);
  const compiled = join(root, 'dist', relative(root, directory), `${name}.js`);
  if (existsSync(compiled)) return compiled;
  throw new Error(`worker script ${name}.js is neither beside ${directory} nor at ${compiled}: run npm run build`);
};
