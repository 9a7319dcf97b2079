import { freshStore } from '../support/dynamodb.ts';
import { describeStoreContract } from './store-contract.ts';

describeStoreContract('DynamoDB Local', async () => {
  const { client, store } = await freshStore();
  return { store, close: async () => client.destroy() };
});
