import { FirestoreTaskStore } from '../../functions/adapters/firestore-task-store.js';
import { emulatorFirestore } from '../helpers/emulator-env.js';
import { firestoreOps, installFirestoreOpCounter } from '../helpers/firestore-ops.js';
import { taskStoreContract } from './task-store.contract.js';

installFirestoreOpCounter();

taskStoreContract('Firestore (emulator)', async () => {
  const { db } = emulatorFirestore();
  return { store: new FirestoreTaskStore(db), ops: () => ({ ...firestoreOps }) };
});
