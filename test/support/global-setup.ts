import type { TestProject } from 'vitest/node';
import { startEmbeddedDynamoDb } from '../../lambda/adapters/embedded-dynamodb.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

/** One in-memory DynamoDB Local (AWS's own) for the whole suite; each test file uses its own tables. */
export default async function setup(project: TestProject) {
  const dynamodb = await startEmbeddedDynamoDb(undefined);
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  return () => dynamodb.stop();
}
