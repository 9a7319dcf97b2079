#!/usr/bin/env node
/**
 * The `ses-stats` binary: `npm run build` (run by `npm ci` as `prepare`) bundles it into
 * dist/cli/ses-stats.mjs. Only main, io and args load at start; each command's code, and the SDK
 * clients it uses, load when it runs.
 */
import { main, stopAtExit, stopForSignal } from './main.ts';

// The SDK's notice about Node 20 support would print on every run; the README states the Node
// versions. Set before any command (and so any SDK module) loads.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Once a signal arrives, the interrupted command's own output (errors of a store being stopped
// under it) is dropped: the signal's message is the last word.
let stopping = false;
const guarded = (stream: NodeJS.WriteStream) => ({
  write: (text: string) => stopping || stream.write(text),
  // `collect` waits for a full pipe to drain, so its output never piles up in memory.
  once: (event: 'drain', listener: () => void) => stream.once(event, listener),
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
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) {
      // A second signal: do not wait for DynamoDB Local to shut down gracefully.
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    stopForSignal(signal, { ...io, stderr: process.stderr }).then((code) => process.exit(code));
  });
}
// `ses-stats query … | head`: the reader has gone; stop quietly instead of with a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
process.on('exit', stopAtExit);
process.exitCode = await main(process.argv.slice(2), io);
