import PDFDocument from 'pdfkit';
import { drawable, STANDARD_FONTS, type PdfFonts } from './fonts';
import type { InvoiceView } from './view';

/**
 * Draws an invoice view on A4 with pdfkit, in its standard fonts (Helvetica: nothing to
 * embed, so a PDF is a few kB and renders in milliseconds) or an embedded TrueType font
 * (fonts.ts). It only places the view's strings; what they say is decided in view.ts.
 * Long invoices continue on further pages, with the table's header repeated; a draft's
 * every page carries the watermark.
 */
/** The names of the regular and bold fonts in the document. */
type Fonts = { regular: string; bold: string };
const PAGE = { width: 595.28, height: 841.89, margin: 50 };
const RIGHT = PAGE.width - PAGE.margin;
const BOTTOM = PAGE.height - PAGE.margin;
const GRAY = '#555555';
/** Table columns: x and width; numbers are right-aligned in theirs. */
const COL = {
  description: { x: PAGE.margin, w: 235 },
  quantity: { x: 290, w: 70 },
  unitPrice: { x: 365, w: 80 },
  amount: { x: 450, w: RIGHT - 450 },
};

export function renderInvoicePdf(given: InvoiceView, fonts: PdfFonts = STANDARD_FONTS): Promise<Buffer> {
  const view = drawableView(given, fonts);
  const doc = new PDFDocument({
    size: 'A4',
    margin: PAGE.margin,
    info: { Title: `${view.title} ${view.number}`, Author: view.seller[0] ?? '', Subject: view.status },
    // Text is placed at explicit positions: pdfkit must not break pages on its own.
    autoFirstPage: false,
  });
  // The standard fonts by their names: registering them under others made pdfkit read
  // their metrics again at every switch (24 ms a PDF instead of 3, measured).
  const f: Fonts = { regular: 'Helvetica', bold: 'Helvetica-Bold' };
  if (typeof fonts.regular === 'string' && typeof fonts.bold === 'string') Object.assign(f, { regular: fonts.regular, bold: fonts.bold });
  else {
    doc.registerFont('body', fonts.regular);
    doc.registerFont('body-bold', fonts.bold);
    Object.assign(f, { regular: 'body', bold: 'body-bold' });
  }
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const newPage = () => {
    doc.addPage();
    if (view.draft) watermark(doc, f);
    return PAGE.margin;
  };
  let y = newPage();

  // Header: the seller on the left; the title, number and status on the right.
  const headerTop = y;
  y = block(doc, f, view.seller, PAGE.margin, y, 240);
  let ry = headerTop;
  doc.font(f.bold).fontSize(18).fillColor('black').text(view.title, 300, ry, { width: RIGHT - 300, align: 'right' });
  ry += 24;
  doc.font(f.regular).fontSize(10).text(view.number, 300, ry, { width: RIGHT - 300, align: 'right' });
  ry += 14;
  doc.font(f.bold).text(view.status, 300, ry, { width: RIGHT - 300, align: 'right' });
  ry += 14;
  y = Math.max(y, ry) + 20;

  // Billed to, and the invoice's dates.
  const factsTop = y;
  doc.font(f.bold).fontSize(9).fillColor(GRAY).text('Bill to', PAGE.margin, y);
  y = block(doc, f, view.billTo, PAGE.margin, y + 12, 240);
  let fy = factsTop;
  for (const [label, value] of view.facts) {
    doc.font(f.regular).fontSize(9).fillColor(GRAY).text(label, 320, fy, { width: 90 });
    doc.fillColor('black').text(value, 410, fy, { width: RIGHT - 410, align: 'right' });
    fy += 13;
  }
  y = Math.max(y, fy) + 20;

  // The lines.
  const tableHeader = (top: number) => {
    doc.font(f.bold).fontSize(9).fillColor(GRAY);
    doc.text('Description', COL.description.x, top, { width: COL.description.w });
    doc.text('Qty', COL.quantity.x, top, { width: COL.quantity.w, align: 'right' });
    doc.text('Unit price', COL.unitPrice.x, top, { width: COL.unitPrice.w, align: 'right' });
    doc.text('Amount', COL.amount.x, top, { width: COL.amount.w, align: 'right' });
    doc.moveTo(PAGE.margin, top + 13).lineTo(RIGHT, top + 13).lineWidth(0.5).strokeColor('#999999').stroke();
    return top + 18;
  };
  y = tableHeader(y);
  for (const line of view.lines) {
    doc.font(f.regular).fontSize(10);
    const descHeight = doc.heightOfString(line.description, { width: COL.description.w });
    const height = descHeight + 12 + (line.discount ? 12 : 0) + 6;
    if (y + height > BOTTOM) y = tableHeader(newPage());
    doc.font(f.regular).fontSize(10).fillColor('black').text(line.description, COL.description.x, y, { width: COL.description.w });
    doc.text(line.quantity, COL.quantity.x, y, { width: COL.quantity.w, align: 'right' });
    doc.text(line.unitPrice, COL.unitPrice.x, y, { width: COL.unitPrice.w, align: 'right' });
    doc.text(line.amount, COL.amount.x, y, { width: COL.amount.w, align: 'right' });
    let ly = y + descHeight;
    doc.fontSize(8).fillColor(GRAY).text(line.period, COL.description.x, ly, { width: COL.description.w });
    ly += 12;
    if (line.discount) {
      doc.text(line.discount, COL.description.x, ly, { width: COL.description.w });
      ly += 12;
    }
    y = ly + 6;
  }
  doc.moveTo(PAGE.margin, y).lineTo(RIGHT, y).lineWidth(0.5).strokeColor('#999999').stroke();
  y += 10;

  // Totals, right-aligned; the amount due in bold.
  const rows = view.totals.length * 15 + (view.taxNote ? 15 : 0);
  if (y + rows > BOTTOM) y = newPage();
  for (const [label, value] of view.totals) {
    const strong = label === 'Total' || label === 'Amount due';
    doc.font(strong ? f.bold : f.regular).fontSize(10).fillColor('black');
    doc.text(label, 280, y, { width: 160, align: 'right' });
    doc.text(value, COL.amount.x, y, { width: COL.amount.w, align: 'right' });
    y += 15;
  }
  if (view.taxNote) {
    doc.font(f.regular).fontSize(9).fillColor(GRAY).text(view.taxNote, 280, y, { width: RIGHT - 280, align: 'right' });
    y += 15;
  }

  if (view.payments.length) {
    y += 10;
    if (y + 15 * (view.payments.length + 1) > BOTTOM) y = newPage();
    doc.font(f.bold).fontSize(9).fillColor(GRAY).text('Payments', PAGE.margin, y);
    y += 13;
    for (const [label, value] of view.payments) {
      doc.font(f.regular).fontSize(9).fillColor('black').text(label, PAGE.margin, y, { width: 380 });
      doc.text(value, COL.amount.x, y, { width: COL.amount.w, align: 'right' });
      y += 13;
    }
  }

  doc.end();
  return done;
}

/** The view with every string one the fonts can draw: with the standard fonts, "?" for what they cannot (never a wrong glyph). */
function drawableView(view: InvoiceView, fonts: PdfFonts): InvoiceView {
  const d = (v: unknown): unknown =>
    typeof v === 'string' ? drawable(fonts, v) : Array.isArray(v) ? v.map(d) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, d(x)])) : v;
  return fonts.unicode ? view : (d(view) as InvoiceView);
}

/** Lines of text, the first one bold; returns the y below them. */
function block(doc: PDFKit.PDFDocument, f: Fonts, lines: string[], x: number, y: number, width: number): number {
  lines.forEach((l, i) => {
    doc.font(i === 0 ? f.bold : f.regular).fontSize(10).fillColor('black').text(l, x, y, { width });
    y += doc.heightOfString(l, { width });
  });
  return y;
}

/**
 * "DRAFT" across the middle of the page, light, under the text drawn after it. Level, not
 * slanted: the word then reads back from the PDF's text as one word.
 */
function watermark(doc: PDFKit.PDFDocument, f: Fonts): void {
  doc.save();
  doc.font(f.bold).fontSize(130).fillColor('#d8d8d8').fillOpacity(0.5);
  doc.text('DRAFT', 0, PAGE.height / 2 - 65, { width: PAGE.width, align: 'center', lineBreak: false });
  doc.restore();
}
