import { readFileSync } from 'node:fs';

/**
 * The PDF's fonts. By default the PDF standard fonts (Helvetica): nothing embedded, a few
 * kB per PDF, but they draw only WinAnsi (Latin-1 and a few more): "₹" or "Łódź" cannot
 * be drawn, so a currency outside it is printed by its code ("INR 1,500.00") and any
 * other such character as "?". `LEDGER_PDF_FONT` (and `LEDGER_PDF_FONT_BOLD`) name a
 * TrueType font file to embed instead (a subset of it per PDF), such as DejaVu Sans,
 * which draws every symbol and script it covers.
 */
export interface PdfFonts {
  regular: string | Buffer;
  bold: string | Buffer;
  /** False for the standard fonts: only WinAnsi text can be drawn. */
  unicode: boolean;
}

export const STANDARD_FONTS: PdfFonts = { regular: 'Helvetica', bold: 'Helvetica-Bold', unicode: false };

const files = new Map<string, Buffer>();
/** Read once per process: a render should not touch the disk. */
const fontFile = (path: string) => {
  let b = files.get(path);
  if (!b) files.set(path, (b = readFileSync(path)));
  return b;
};

export function fontsOf(env: Record<string, string | undefined> = process.env): PdfFonts {
  const regular = env.LEDGER_PDF_FONT?.trim();
  if (!regular) return STANDARD_FONTS;
  const bold = env.LEDGER_PDF_FONT_BOLD?.trim() || regular;
  return { regular: fontFile(regular), bold: fontFile(bold), unicode: true };
}

/** WinAnsi, the encoding of the standard fonts: what they can draw (Intl's thin and narrow no-break spaces are printed as spaces). */
const WIN_ANSI = /[\u0020-\u007e\u00a0-\u00ff\u2009\u202f\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]/;
const NOT_WIN_ANSI = new RegExp(`[^${WIN_ANSI.source.slice(1, -1)}]`, 'gu');

export const drawableBy = (fonts: PdfFonts, s: string) => fonts.unicode || !new RegExp(NOT_WIN_ANSI.source, 'u').test(s);

/** Text the fonts can draw: with the standard fonts, "?" for each character they cannot (never a wrong glyph). */
export const drawable = (fonts: PdfFonts, s: string) => (fonts.unicode ? s : s.replace(NOT_WIN_ANSI, '?'));
