import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

/**
 * axe's findings on the page as it is now, each as "<rule>: <help> (<targets>)"; with
 * `serious`, only serious and critical ones. After a client-side navigation (a server
 * action's redirect) Next.js sets the new page's <title> a moment later: it is waited
 * for first, or axe may run in between and report a document without a title.
 */
export async function axeFindings(page: Page, { serious = false } = {}): Promise<string[]> {
  await expect(page).toHaveTitle(/\S/);
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => !serious || v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}
