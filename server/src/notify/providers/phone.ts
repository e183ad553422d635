import { ProviderError } from '../provider.js';

/** E.164 as ProviderMessage.to carries it: `+`, country code, number, 8–15 digits in all. */
const E164 = /^\+[1-9]\d{7,14}$/;

/** Checks a number is E.164; a malformed number is a permanent error (no retry will fix it). */
export function e164(to: string): string {
  const n = to.trim();
  if (!E164.test(n)) {
    throw new ProviderError('permanent', null, `recipient ${JSON.stringify(to)} is not an E.164 number`);
  }
  return n;
}

/** True for a number in mainland China (+86). */
export function isMainland(to: string): boolean {
  return to.startsWith('+86');
}

/**
 * The number as Alibaba Cloud wants it: a mainland number without its country code
 * (`13800000000`), any other with its country code but no `+` (`85200000000`).
 */
export function aliyunNumber(to: string): string {
  const n = e164(to);
  return isMainland(n) ? n.slice(3) : n.slice(1);
}

/**
 * A number read back from a callback, as E.164: Alibaba writes mainland numbers without a country
 * code; Tencent gives the country code apart (`nationcode`).
 */
export function numberFrom(mobile: string, nationcode?: string): string {
  const digits = mobile.replace(/[^\d]/g, '');
  if (nationcode !== undefined && nationcode !== '') return `+${nationcode.replace(/[^\d]/g, '')}${digits}`;
  if (/^1\d{10}$/.test(digits)) return `+86${digits}`;
  return `+${digits}`;
}
