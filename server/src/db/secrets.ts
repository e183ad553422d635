import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, URL-safe: session cookies and API token secrets. */
export const newSecret = (): string => randomBytes(32).toString('base64url');

/**
 * What the database keeps of a secret: its SHA-256. The secrets are random 256-bit values, so a
 * fast hash is as good as a slow one here (there is no dictionary to try); a slow one would cost
 * every request.
 */
export const secretHash = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** A generated password: 120 random bits, letters and digits only (no look-alikes to misread). */
export function generatePassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(32);
  let out = '';
  // 56 symbols: rejection sampling keeps each equally likely (bytes ≥ 224 are skipped).
  for (const b of bytes) {
    if (b >= 224) continue;
    out += alphabet[b % 56];
    if (out.length === 21) break;
  }
  return out.length === 21 ? out : generatePassword();
}
