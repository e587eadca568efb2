#!/usr/bin/env node
'use strict';
// The installed `buildctl` command: runs the compiled CLI (dist/ is built by `npm run build`).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const entry = join(root, 'dist', 'apps', 'buildctl', 'src', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write(`buildctl: not compiled (${entry} is missing): run "npm run build" in ${root}\n`);
  process.exit(2);
}
require(entry);
