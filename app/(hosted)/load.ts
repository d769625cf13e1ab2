import { notFound } from 'next/navigation';
import { cache } from 'react';
import { isLedgerError } from '@/server/ledger';
import { getRuntime } from '@/server/runtime';

/**
 * What each hosted page reads, once per request (the page and its metadata share it). A
 * refused token (bad, changed, expired, or naming something gone) is a 404 with the
 * designed "link invalid" page, never an error page.
 */
async function orNotFound<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (isLedgerError(e) && e.code === 'not_found') notFound();
    throw e;
  }
}

export const loadInvoice = cache((token: string) =>
  orNotFound(async () => {
    const rt = await getRuntime();
    const view = await rt.ledger.hosted.invoice(token);
    return { view, testMode: (await rt.ledger.scopes.mode(view.scope)) === 'test' };
  }),
);

export const loadSetup = cache((token: string) =>
  orNotFound(async () => {
    const rt = await getRuntime();
    const setup = await rt.ledger.hosted.setup(token);
    return { setup, testMode: (await rt.ledger.scopes.mode(setup.scope)) === 'test' };
  }),
);

export const loadConfirmation = cache((token: string) =>
  orNotFound(async () => {
    const rt = await getRuntime();
    const c = await rt.ledger.hosted.confirmation(token);
    return { c, testMode: (await rt.ledger.scopes.mode(c.scope)) === 'test' };
  }),
);
