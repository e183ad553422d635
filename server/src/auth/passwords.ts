import { randomBytes } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { ServerError } from '../errors.js';

/**
 * Account passwords: argon2id with OWASP's minimum (Password Storage Cheat Sheet: m = 19 MiB,
 * t = 2, p = 1). Each hash carries its parameters (PHC string), so raising them later re-hashes
 * nobody's password by force: old hashes keep verifying.
 */
export const ARGON2_OPTIONS = {
  // Algorithm.Argon2id: a const enum, which isolated modules cannot read.
  algorithm: 2 as Algorithm,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * At most this many argon2 computations at once, and this many waiting: each takes 19 MiB and a
 * thread of libuv's pool, which the ingest journal's disk writes share. A flood of logins waits
 * its turn or is turned away (PasswordCheckBusyError), and never starves the readings.
 */
const MAX_RUNNING = 2;
const MAX_WAITING = 64;
let running = 0;
const waiting: Array<() => void> = [];

/** Too many logins at once: try again in a moment. */
export class PasswordCheckBusyError extends ServerError {
  constructor() {
    const message = 'too many logins at once; try again in a few seconds';
    super('login_busy', message, { statusCode: 503, publicMessage: message });
  }
}

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running < MAX_RUNNING) running++;
  else if (waiting.length >= MAX_WAITING) throw new PasswordCheckBusyError();
  // Woken by a finishing one, which hands its slot over: `running` stays as it is.
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next === undefined) running--;
    else next();
  }
}

export function hashPassword(password: string): Promise<string> {
  return limited(() => hash(password, ARGON2_OPTIONS));
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return limited(async () => {
    try {
      return await verify(passwordHash, password);
    } catch {
      // A damaged hash in the table matches no password.
      return false;
    }
  });
}

/**
 * A hash of a password nobody has: verified against when the account does not exist, so a login
 * for a missing user costs what one for a real user does and the answer time tells nothing.
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}

/** Shortest password a person may set (NIST SP 800-63B: at least 8). */
export const MIN_PASSWORD_LENGTH = 10;
