import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter } from './root';

/**
 * The typed client for product teams' backends:
 *   const ledger = createLedgerClient({ url: 'https://billing.example.com', apiKey });
 *   const plans = await ledger.plans.list.query();
 * Every call carries the API key; the key decides the tenant and app.
 */
export function createLedgerClient(opts: { url: string; apiKey: string; fetch?: typeof fetch; maxBatch?: number }) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${opts.url.replace(/\/$/, '')}/api/trpc`,
        transformer: superjson,
        headers: () => ({ authorization: `Bearer ${opts.apiKey}` }),
        // The server refuses batches of more calls (LEDGER_TRPC_MAX_BATCH, default 50).
        maxItems: opts.maxBatch ?? 50,
        fetch: opts.fetch,
      }),
    ],
  });
}

export type LedgerClient = ReturnType<typeof createLedgerClient>;
export { TRPCClientError };
