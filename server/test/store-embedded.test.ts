import { afterAll } from 'vitest';
import { createEmbeddedStore } from '../src/store/embedded.js';
import { quietLogger, tempDir } from './helpers.js';
import { storeContract } from './store-contract.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

const make = async () => {
  const s = createEmbeddedStore({ dir: tmp.dir, logger: quietLogger() });
  await s.start();
  return s;
};
storeContract('embedded (classic-level)', make, async (s) => {
  await s.stop();
  return make();
});
