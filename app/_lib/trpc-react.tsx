'use client';

import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { useState, type ReactNode } from 'react';
import superjson from 'superjson';
import type { AppRouter } from '@/server/trpc/root';

/**
 * tRPC through TanStack Query for the portal's client components:
 *   const trpc = useTRPC();
 *   const preview = useQuery(trpc.accountPlans.previewChange.queryOptions({ planKey }));
 * Calls go to /api/trpc with the browser's session cookie: the server takes the scope and
 * the customer from that session, never from the input (server/trpc/context.ts).
 */
export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Billing figures change only by the user's own writes here, which refresh the
        // page: no refetch on every focus, and a failed read is retried once, not thrice.
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        retry: 1,
      },
      mutations: { retry: false },
    },
  });
}

/** One QueryClient and one tRPC client per browser tab, made on first render. */
export function TRPCReactProvider({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: '/api/trpc', transformer: superjson })],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
