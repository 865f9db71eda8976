import { MemoryProvenanceStore } from '../../functions/adapters/memory-provenance-store.js';
import { provenanceStoreContract } from './provenance-store.contract.js';

provenanceStoreContract('in-memory', async () => new MemoryProvenanceStore());
