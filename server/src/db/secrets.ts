import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, URL-safe: session cookies and API token secrets. */
export const newSecret = (): string => randomBytes(32).toString('base64url');

/**
 * What the database keeps of a secret: its SHA-256. The secrets are random 256-bit values, so a
 * fast hash is as good as a slow one here (there is no dictionary to try); a slow one would cost
 * every request.
 */
export const secretHash = (secret: string): string => createHash('sha256').update(secret).digest('hex');
