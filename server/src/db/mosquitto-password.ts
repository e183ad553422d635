import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/**
 * Gateway MQTT passwords in Mosquitto's own password_file form, so `mqtt export` hands the stored
 * hashes to Mosquitto as they are and the embedded broker checks the same strings:
 * `$7$<iterations>$<base64 12-byte salt>$<base64 64-byte PBKDF2-HMAC-SHA512 digest>`, as
 * `mosquitto_passwd` 2.0 writes it (checked against the binary in test/mosquitto-password.test.ts).
 *
 * 101 iterations is mosquitto_passwd's own default. That is few for a password a person chose, but
 * gateway passwords are generated (120 random bits, auth/passwords.ts): no iteration count makes
 * such a secret easier or harder to guess, and a cheap check keeps a reconnect storm of thousands
 * of gateways cheap, for us and for Mosquitto, which verifies on its one thread.
 */
export const MOSQUITTO_ITERATIONS = 101;
const SALT_BYTES = 12;
const DIGEST_BYTES = 64;
/** A damaged row must not make one connect cost minutes of CPU. */
const MAX_ITERATIONS = 1_000_000;

const FORM = /^\$7\$([1-9][0-9]{0,6})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export async function hashMosquittoPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const digest = await pbkdf2Async(password, salt, MOSQUITTO_ITERATIONS, DIGEST_BYTES, 'sha512');
  return `$7$${MOSQUITTO_ITERATIONS}$${salt.toString('base64')}$${digest.toString('base64')}`;
}

/** True when `password` matches `hash`; a hash not in the `$7$` form matches nothing. */
export async function verifyMosquittoPassword(hash: string, password: string): Promise<boolean> {
  const m = FORM.exec(hash);
  if (!m) return false;
  const iterations = Number(m[1]);
  const salt = Buffer.from(m[2] as string, 'base64');
  const expected = Buffer.from(m[3] as string, 'base64');
  if (iterations > MAX_ITERATIONS || expected.length !== DIGEST_BYTES || salt.length === 0) return false;
  const digest = await pbkdf2Async(password, salt, iterations, DIGEST_BYTES, 'sha512');
  return timingSafeEqual(digest, expected);
}
