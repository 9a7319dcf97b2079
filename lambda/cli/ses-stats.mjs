#!/usr/bin/env node
// Runs the TypeScript CLI directly (through tsx), so `npx ses-stats` works right after `npm ci`.
import { register } from 'tsx/esm/api';

// The SDK's notice about Node 20 support would print on every run; the README states the Node versions.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main, stopAtExit, stopForSignal } = await import('./main.ts');

// Once a signal arrives, the interrupted command's own output (errors of a store being stopped
// under it) is dropped: the signal's message is the last word.
let stopping = false;
const guarded = (stream) => ({
  write: (text) => stopping || stream.write(text),
  get isTTY() {
    return stream.isTTY;
  },
});
const io = {
  stdout: guarded(process.stdout),
  stderr: guarded(process.stderr),
  env: process.env,
  cwd: process.cwd(),
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) {
      // A second signal: do not wait for DynamoDB Local to shut down gracefully.
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    stopForSignal(signal, { ...io, stderr: process.stderr }).then((code) => process.exit(code));
  });
}
process.on('exit', stopAtExit);
process.exitCode = await main(process.argv.slice(2), io);
