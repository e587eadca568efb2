import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HttpProblem } from '@lib/shared';

/**
 * Where the dashboard's files come from. The browser code is hand-written ES modules committed under
 * `apps/projector/src/dashboard/assets` (no bundler, no build step); swc compiles only TypeScript, so
 * the files are read from the source tree, found from the repository root whether this module runs
 * from `src` (tests) or `dist`. Chart.js comes from its package's own UMD build.
 */
const repositoryRoot = (start: string): string => {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}: cannot find the dashboard's files`);
    dir = parent;
  }
  return dir;
};

export const ASSETS_DIR = join(repositoryRoot(__dirname), 'apps/projector/src/dashboard/assets');
/** chart.js exports only its modules; its UMD file sits beside the CommonJS entry point. */
export const CHART_JS = join(dirname(require.resolve('chart.js')), 'chart.umd.js');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** Asset names are flat and plain, so a request can never name a file outside the folder. */
const ASSET_NAME = /^[a-z][a-z0-9-]*\.(html|js|css)$/;

export type DashboardFile = { contentType: string; body: Buffer };

const notFound = (name: string): HttpProblem => new HttpProblem(404, 'not-found', 'Not Found', `The dashboard has no file ${JSON.stringify(name)}`);

const load = async (path: string, extension: string): Promise<DashboardFile> => {
  try {
    return { contentType: CONTENT_TYPES[extension], body: await readFile(path) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(path.slice(path.lastIndexOf('/') + 1));
    throw error;
  }
};

export const dashboardAsset = (name: string): Promise<DashboardFile> => {
  const match = ASSET_NAME.exec(name);
  if (!match) return Promise.reject(notFound(name));
  return load(join(ASSETS_DIR, name), match[1]);
};

export const chartJs = (): Promise<DashboardFile> => load(CHART_JS, 'js');
