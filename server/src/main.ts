import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { buildServer } from './app.js';
import { loadConfig } from './config.js';
import { ConfigError, ServerError } from './errors.js';
import { withoutCredentials } from './urls.js';

// Entry point of `gaswatch-server`: config, logger, app, graceful shutdown, listen.
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`gaswatch-server: ${err.message}\n`);
  process.exit(2);
}

// `gaswatch-server <command> …`: an administrative command (cli/index.ts) instead of the server.
const commandArgs = process.argv.slice(2);
if (commandArgs.length > 0) {
  const { runCommand } = await import('./cli/index.js');
  // Its log goes to stderr, so stdout carries only what the command prints (a password, paths).
  const cliLogger = pino(
    { level: config.logLevel === 'info' ? 'warn' : config.logLevel },
    pino.destination(2),
  );
  try {
    process.exit(await runCommand(commandArgs, config, cliLogger));
  } catch (err) {
    process.stderr.write(
      `gaswatch-server ${commandArgs.join(' ')}: failed: ${err instanceof ServerError ? err.message : (err as Error).stack}\n`,
    );
    process.exit(1);
  }
}

const logger = pino({
  level: config.logLevel,
  base: { svc: 'gaswatch-server' },
  ...(process.stdout.isTTY
    ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } }
    : {}),
});

let app: Awaited<ReturnType<typeof buildServer>>;
try {
  app = await buildServer({ config, logger });
} catch (err) {
  // A start that fails on purpose (database unreachable, a migration rolled back) says why in one
  // line, even with LOG_LEVEL=silent; anything else is a bug and keeps its stack.
  logger.fatal({ err }, 'could not start');
  process.stderr.write(
    `gaswatch-server: could not start: ${err instanceof ServerError ? err.message : (err as Error).stack}\n`,
  );
  process.exit(1);
}
closeWithGrace({ delay: 10_000, logger }, async ({ err, signal }) => {
  if (err) logger.error({ err }, 'shutting down after an error');
  else logger.info({ signal }, 'shutting down');
  await app.close();
});
await app.listen({ port: config.port, host: config.host });
const addr = app.server.address();
const port = addr && typeof addr === 'object' ? addr.port : config.port;
const host = config.host.includes(':') ? `[${config.host}]` : config.host;
// The launcher and e2e tests parse this line, so it is printed at any level but silent.
const announce = config.logLevel === 'silent' ? logger : logger.child({}, { level: 'info' });
announce.info(
  {
    url: `${config.https === null ? 'http' : 'https'}://${host}:${port}`,
    mqtt: withoutCredentials(app.mqttUrl),
    ...(app.mqttsUrl === null ? {} : { mqtts: app.mqttsUrl }),
    store: app.store.kind,
    dataDir: config.dataDir,
  },
  'listening',
);
