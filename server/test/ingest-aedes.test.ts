import { ingestContract } from './ingest-contract.js';

ingestContract('embedded aedes', async () => ({ env: {}, brokerUrl: null, teardown: async () => {} }));
