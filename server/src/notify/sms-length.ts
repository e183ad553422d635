/**
 * How many SMS segments a text takes (3GPP TS 23.038, as every carrier and provider counts):
 * a text written only in the GSM-7 alphabet goes 160 characters in one SMS, 153 per part of a
 * long one (the rest carries the concatenation header); any other character (one Chinese
 * character is enough) makes the whole text UCS-2: 70 in one SMS, 67 per part. GSM-7's
 * extension characters (€, [, ], {, }, ~, ^, |, \) take two septets. Alibaba Cloud and Tencent
 * Cloud count the sign name 【…】 they put in front, so it is part of the text measured here.
 */

/** The GSM 03.38 basic character set. */
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
/** The extension table: each takes an escape septet and its own. */
const GSM7_EXTENSION = new Set('^{}\\[~]|€\f');

export type SmsEncoding = 'gsm7' | 'ucs2';

export interface SmsLength {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2): what the limits count. */
  units: number;
  segments: number;
}

/** Units one SMS holds, and units per part of a long one. */
export const SMS_LIMITS: Readonly<Record<SmsEncoding, { single: number; part: number }>> = {
  gsm7: { single: 160, part: 153 },
  ucs2: { single: 70, part: 67 },
};

export function smsLength(text: string): SmsLength {
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (GSM7_BASIC.has(ch)) septets += 1;
    else if (GSM7_EXTENSION.has(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  const encoding: SmsEncoding = gsm ? 'gsm7' : 'ucs2';
  // UCS-2 counts UTF-16 code units: a character outside the BMP (an emoji) takes two.
  const units = gsm ? septets : text.length;
  const { single, part } = SMS_LIMITS[encoding];
  const segments = units === 0 ? 1 : units <= single ? 1 : Math.ceil(units / part);
  return { encoding, units, segments };
}

/** The most units a text may have to fit in `segments` SMS of this encoding. */
export function smsCapacity(encoding: SmsEncoding, segments: number): number {
  const { single, part } = SMS_LIMITS[encoding];
  return segments <= 1 ? single : part * segments;
}
