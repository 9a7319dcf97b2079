#!/usr/bin/env node
// Runs the TypeScript CLI directly (through tsx), so `npx ses-stats` works right after `npm ci`.
import { register } from 'tsx/esm/api';

// The SDK's notice about Node 20 support would print on every run; the README states the Node versions.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
