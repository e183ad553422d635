import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'server',
    include: ['test/**/*.test.ts'],
    // The integration tests start processes, influxd and Mosquitto and wait up to 60 s inside;
    // on a loaded CI machine 30 s cut some of them short while the product was still correct.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
