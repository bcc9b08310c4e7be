#!/usr/bin/env node
import { processIO } from './io';
import { runCli } from './program';

// `orbiter …` (package.json bin → dist/local/cli/main.js). Exit codes: local/cli/exitCodes.ts, docs/monitoring.md.
void runCli(process.argv.slice(2), processIO()).then((code) => {
  process.exitCode = code;
});
