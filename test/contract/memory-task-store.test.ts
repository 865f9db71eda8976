import { MemoryTaskStore } from '../../functions/adapters/memory-task-store.js';
import { taskStoreContract } from './task-store.contract.js';

taskStoreContract('in-memory', async () => {
  const store = new MemoryTaskStore();
  return { store, ops: () => ({ ...store.ops }) };
});
