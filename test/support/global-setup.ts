import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedDynamoDb } from '../../lambda/adapters/embedded-dynamodb.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

/**
 * Builds the CLI first (`npm run build`), so every test that spawns the `ses-stats` binary runs
 * the current sources; then one in-memory DynamoDB Local (AWS's own) for the whole suite, each
 * test file using its own tables.
 */
export default async function setup(project: TestProject) {
  execFileSync(process.execPath, [resolve(import.meta.dirname, '../../scripts/build-cli.mjs')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const dynamodb = await startEmbeddedDynamoDb(undefined);
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  return () => dynamodb.stop();
}
