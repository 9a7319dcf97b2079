import { MemoryDatasetStore } from '../support/memory-store.ts';
import { describeStoreContract } from './store-contract.ts';

describeStoreContract('memory (test fake)', async () => ({
  store: new MemoryDatasetStore(),
  close: async () => undefined,
}));
