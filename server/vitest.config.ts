import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'server',
    include: ['test/**/*.test.ts'],
    // The console app's build (server/console/dist), made once if missing or stale: the server
    // serves it at /console/ and the e2e tests drive it.
    globalSetup: ['test/build-console.setup.ts'],
    // The integration tests start processes, influxd and Mosquitto and wait up to 60 s inside;
    // on a loaded CI machine 30 s cut some of them short while the product was still correct.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
