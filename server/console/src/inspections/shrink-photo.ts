/**
 * A phone's photo (4000 × 3000, 3–8 MB) made small enough to send over a village's mobile signal
 * and under the server's limit: decoded in the browser, drawn on a canvas at most 1600 px on its
 * long side and encoded as JPEG at quality 0.8; smaller and rougher only while it is still too
 * big. Re-encoding also drops the camera's EXIF (the GPS position of someone's home).
 */

/** Tries in order until the JPEG fits: long side in px, JPEG quality. */
const STEPS = [
  { side: 1600, quality: 0.8 },
  { side: 1600, quality: 0.6 },
  { side: 1200, quality: 0.6 },
  { side: 1000, quality: 0.5 },
] as const;

/** The photo could not be decoded (not an image, or a format this browser cannot read). */
export class UnreadablePhotoError extends Error {}
/** Even the smallest try is over the limit. */
export class PhotoTooLargeError extends Error {}

/** Decoded, upright (the EXIF orientation applied by the browser). */
async function decode(file: Blob): Promise<{ image: CanvasImageSource; width: number; height: number }> {
  if (typeof createImageBitmap === 'function') {
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
      return { image: bitmap, width: bitmap.width, height: bitmap.height };
    } catch {
      // Some browsers decode in <img> what createImageBitmap refuses: try that.
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return { image: img, width: img.naturalWidth, height: img.naturalHeight };
  } catch {
    throw new UnreadablePhotoError('the photo cannot be decoded');
  } finally {
    URL.revokeObjectURL(url);
  }
}

function encode(canvas: HTMLCanvasElement, quality: number): Promise<Blob> {
  return new Promise((resolve, reject) => {
    canvas.toBlob(
      (blob) => (blob === null ? reject(new UnreadablePhotoError('no JPEG made')) : resolve(blob)),
      'image/jpeg',
      quality,
    );
  });
}

/** The photo as a JPEG of at most `maxBytes`. */
export async function shrinkPhoto(file: Blob, maxBytes: number): Promise<Blob> {
  const { image, width, height } = await decode(file);
  if (width === 0 || height === 0) throw new UnreadablePhotoError('an empty image');
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d');
  if (ctx === null) throw new UnreadablePhotoError('no canvas');
  try {
    for (const step of STEPS) {
      const scale = Math.min(1, step.side / Math.max(width, height));
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      // A PNG's transparency would turn black in a JPEG: white under it, as on paper.
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
      const blob = await encode(canvas, step.quality);
      if (blob.size <= maxBytes) return blob;
    }
  } finally {
    if (typeof ImageBitmap !== 'undefined' && image instanceof ImageBitmap) image.close();
    // Frees the canvas' memory at once: a phone holds little.
    canvas.width = 0;
    canvas.height = 0;
  }
  throw new PhotoTooLargeError(`over ${maxBytes} bytes even at the smallest size`);
}

/** A blob as a data: URL (to keep it in sessionStorage), and back. */
export function toDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

export function fromDataUrl(url: string): Blob {
  const m = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(url);
  if (m === null) throw new UnreadablePhotoError('not a data URL');
  const type = m[1] ?? 'application/octet-stream';
  const text = m[2] ? atob(m[3] ?? '') : decodeURIComponent(m[3] ?? '');
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new Blob([bytes], { type });
}
