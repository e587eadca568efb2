#!/usr/bin/env node
// `npm start`: runs the orchestrator (command API, PORT) and the projector (query API, PROJECTOR_PORT)
// as two processes on the same configuration, with their output prefixed. If either stops, the
// other is stopped too and the exit code is passed on. Expects `npm run build` to have run.
'use strict';
const { fork } = require('node:child_process');
const { join } = require('node:path');
const readline = require('node:readline');

const dist = join(__dirname, '..', 'dist');
const { loadConfig, ConfigError } = require(join(dist, 'libs/shared/src/config/app-config.js'));

try {
  loadConfig(process.env);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}

const apps = {
  orchestrator: { entry: join(dist, 'apps/orchestrator/src/main.js'), execArgv: [] },
  // A young generation sized for a replay's allocation rate (catching up, a rebuild): fewer, cheaper scavenges.
  projector: { entry: join(dist, 'apps/projector/src/main.js'), execArgv: ['--max-semi-space-size=64'] },
};
const children = new Map();
let stopping = false;

const stopAll = (signal) => {
  stopping = true;
  for (const child of children.values()) if (child.exitCode === null) child.kill(signal);
};

for (const [name, { entry, execArgv }] of Object.entries(apps)) {
  const child = fork(entry, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [...process.execArgv, ...execArgv] });
  children.set(name, child);
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the other app`);
      process.exitCode = code || 1;
      stopAll('SIGTERM');
    }
    if (children.size === 0) process.exit(process.exitCode ?? 0);
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(signal));
