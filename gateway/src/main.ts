// gaswatch-gateway --config FILE
import { parseArgs } from 'node:util';
import closeWithGrace from 'close-with-grace';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { createGateway } from './gateway.js';
import { createLogger } from './logger.js';

const USAGE = 'usage: gaswatch-gateway --config FILE';

async function main(): Promise<number> {
  let values: { config?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.config) {
    process.stderr.write(`missing --config\n${USAGE}\n`);
    return 2;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(values.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 78; // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const gateway = createGateway({ config, logger });
  closeWithGrace({ delay: 10_000, logger }, async ({ err, signal }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    await gateway.stop();
  });
  await gateway.start();
  return 0;
}

main().then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`gaswatch-gateway failed to start: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
    process.exit(1);
  },
);
