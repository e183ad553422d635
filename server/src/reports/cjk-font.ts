import { readFile } from 'node:fs/promises';
import { ServerError } from '../errors.js';

/**
 * The CJK font every PDF of the server is set in (the weekly ledger, the permit): which fonts are
 * looked for, the error naming the package to install when there is none, and the font's bytes,
 * read once per process.
 */

/** A CJK font the PDF can be set in: a face of a TrueType collection and the Debian package that ships it. */
export interface CjkFont {
  file: string;
  /** PostScript name of the face within the collection (a .ttc holds several). */
  face: string;
  package: string;
}

/**
 * The fonts tried, in order. WenQuanYi Micro Hei is small (5 MB) and what CI installs; Noto Sans
 * CJK (91 MB) is the alternative many hosts already have. A PDF reader without the font is fine:
 * the glyphs used are embedded (a subset).
 */
export const CJK_FONTS: readonly CjkFont[] = [
  {
    file: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
    face: 'WenQuanYiMicroHei',
    package: 'fonts-wqy-microhei',
  },
  {
    file: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
    face: 'NotoSansCJKsc-Regular',
    package: 'fonts-noto-cjk',
  },
];

/** No CJK font on the host: a PDF of Chinese text cannot be made. `hint` says what works without one. */
export class PdfFontMissingError extends ServerError {
  constructor(fonts: readonly CjkFont[], hint?: string) {
    const pkg = fonts[0]?.package ?? 'fonts-wqy-microhei';
    const message = `no CJK font for the PDF: install the Debian package ${pkg} (apt-get install ${pkg}; looked for ${fonts.map((f) => f.file).join(', ')})${hint === undefined ? '' : `; ${hint}`}`;
    super('pdf_font_missing', message, { statusCode: 503, publicMessage: message });
  }
}

const fontCache = new Map<string, Buffer>();

/** The first of `fonts` the host has, with its bytes; PdfFontMissingError when none. */
export async function loadCjkFont(
  fonts: readonly CjkFont[] = CJK_FONTS,
  hint?: string,
): Promise<{ font: CjkFont; bytes: Buffer }> {
  for (const font of fonts) {
    const cached = fontCache.get(font.file);
    if (cached !== undefined) return { font, bytes: cached };
    try {
      const bytes = await readFile(font.file);
      fontCache.set(font.file, bytes);
      return { font, bytes };
    } catch {
      // The next one, else the error naming the package.
    }
  }
  throw new PdfFontMissingError(fonts, hint);
}
