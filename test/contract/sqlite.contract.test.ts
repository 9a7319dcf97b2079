import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteDatasetStore } from '../../lambda/adapters/sqlite-dataset-store.ts';
import { describeStoreContract } from './store-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'ses-stats-sqlite-contract-'));
let files = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStoreContract('SQLite', async () => {
  const store = SqliteDatasetStore.open(join(dir, `store-${++files}.sqlite`));
  return { store, close: async () => store.close() };
});
