import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A PDF's text as `pdftotext -layout` (poppler-utils; `.ci/run` installs it) reads it back:
 * what a reader of the PDF sees, in its rows.
 */
export function pdfText(pdf: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-pdf-'));
  try {
    const file = join(dir, 'invoice.pdf');
    writeFileSync(file, pdf);
    return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The row of the text holding `label`, its runs of spaces made one: "Total $69.12". */
export function rowOf(text: string, label: string | RegExp): string {
  const rows = text.split('\n').filter((r) => (typeof label === 'string' ? r.includes(label) : label.test(r)));
  if (rows.length !== 1) throw new Error(`expected one row with ${String(label)}, found ${rows.length}:\n${text}`);
  return rows[0]!.trim().replace(/\s{2,}/g, '  ');
}
