// A process that takes the lock of the directory in argv[2], logs entering and leaving while it
// holds it, and releases it: run by dir-lock.test.ts to check mutual exclusion between processes.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { lockDir } from '../../lambda/adapters/embedded-dynamodb.ts';

const dir = process.argv[2] ?? '';
const lock = await lockDir(dir, 60_000);
appendFileSync(join(dir, 'log'), `in ${process.pid}\n`);
await delay(30);
appendFileSync(join(dir, 'log'), `out ${process.pid}\n`);
lock.release();
