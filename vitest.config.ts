import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['shared', 'firmware-sim', 'gateway', 'server'],
  },
});
