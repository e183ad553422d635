import pino from 'pino';

/** Silent unless GASWATCH_TEST_LOG names a level (debugging a test). */
export const testLogger = () => pino({ level: process.env.GASWATCH_TEST_LOG ?? 'silent' });
