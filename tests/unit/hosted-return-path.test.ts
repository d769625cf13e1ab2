import { describe, expect, it } from 'vitest';
import { returnQuery, safeReturnPath } from '@/app/(hosted)/return-path';

/** The hosted pay page's way back to the portal: a path of this app, or no link at all (no open redirect). */
describe('safeReturnPath', () => {
  it('accepts a path of this app, normalised', () => {
    expect(safeReturnPath('/portal/invoices/inv_01abc')).toBe('/portal/invoices/inv_01abc');
    expect(safeReturnPath('/portal')).toBe('/portal');
    expect(safeReturnPath('/portal/invoices?page=2#top')).toBe('/portal/invoices?page=2#top');
    expect(safeReturnPath('/portal/x/../invoices')).toBe('/portal/invoices');
  });

  it.each([
    ['another site', 'https://evil.example/portal'],
    ['a protocol-relative URL', '//evil.example/portal'],
    ['a backslash that browsers read as a slash', '/\\evil.example'],
    ['a backslash first', '\\\\evil.example'],
    ['a script URL', 'javascript:alert(1)'],
    ['a relative path', 'portal/invoices'],
    ['a tab that browsers strip', '/\t/evil.example'],
    ['a newline', '/portal\n'],
    ['a space', '/ /evil.example'],
    ['an empty string', ''],
    ['too long', `/${'a'.repeat(600)}`],
    ['not a string', ['/portal', '/x']],
    ['nothing', undefined],
  ])('refuses %s', (_, value) => {
    expect(safeReturnPath(value)).toBeNull();
  });

  it('carries only an accepted path into a query', () => {
    expect(returnQuery('/portal/invoices/inv_1')).toBe('?return=%2Fportal%2Finvoices%2Finv_1');
    expect(returnQuery('//evil.example')).toBe('');
    expect(returnQuery(null)).toBe('');
  });
});
