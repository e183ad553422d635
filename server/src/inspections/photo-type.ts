import type { PhotoType } from '@gaswatch/shared';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The image type of a photo by its signature (the first bytes every such file starts with), or
 * null for anything else: a PDF, an HTML page or a script sent as `image/png` is refused, and the
 * type a photo is served with is the one its bytes say, never the one the uploader claimed.
 */
export function photoType(b: Buffer): PhotoType | null {
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG)) return 'image/png';
  // SOI then the first marker's FF.
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  // A RIFF container of WEBP data.
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP')
    return 'image/webp';
  return null;
}
