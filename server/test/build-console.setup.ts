import { ensureConsoleBuilt } from '../scripts/build-console.mjs';

// vitest globalSetup of the server project: the console app built once, before any test file.
export default async function setup(): Promise<void> {
  await ensureConsoleBuilt();
}
