import pino, { type Logger } from 'pino';

/** The root logger: JSON lines, pretty only when stdout is a terminal. */
export function createLogger(level = 'info'): Logger {
  if (process.stdout.isTTY) {
    return pino({
      level,
      base: { name: 'gaswatch-gateway' },
      transport: { target: 'pino-pretty', options: { colorize: true } },
    });
  }
  return pino({ level, base: { name: 'gaswatch-gateway' } });
}
