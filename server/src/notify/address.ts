import type { Medium } from './provider.js';

/**
 * Addresses as the chain sends to them. A household's phones are written as people write them
 * (138 0000 0001, 0772-1234567); providers take E.164 (+8613800000001), and replies come back
 * from that form, so every phone number is made E.164 once, when the chain picks its contact.
 */

/** The number in E.164: `+` kept; a mainland mobile (1xxxxxxxxxx) or landline (0 + area code) gets +86. */
export function phoneE164(raw: string): string | null {
  const t = raw.trim();
  const digits = t.replace(/[\s()-]/g, '');
  if (/^\+[1-9]\d{6,14}$/.test(digits)) return digits;
  if (/^1[3-9]\d{9}$/.test(digits)) return `+86${digits}`;
  if (/^0[1-9]\d{8,10}$/.test(digits)) return `+86${digits.slice(1)}`;
  if (/^00[1-9]\d{6,14}$/.test(digits)) return `+${digits.slice(2)}`;
  return null;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The address in the form the chain keeps it: phones E.164, anything else trimmed. */
export function normalAddress(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const t = raw.trim();
  if (t === '') return undefined;
  if (EMAIL.test(t)) return t;
  return phoneE164(t) ?? t;
}

/**
 * Whether a message of this medium can go to the address: SMS and calls need a phone number,
 * e-mail an e-mail address; a chat robot posts to its group (a phone @-mentions), a webhook to
 * its URL, with or without one.
 */
export function reachable(medium: Medium, to: string | undefined): boolean {
  switch (medium) {
    case 'sms':
    case 'voice':
      return to !== undefined && /^\+[1-9]\d{6,14}$/.test(to);
    case 'email':
      return to !== undefined && EMAIL.test(to);
    default:
      return true;
  }
}
