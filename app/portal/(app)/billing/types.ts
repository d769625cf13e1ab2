import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@/server/trpc/root';

type Out = inferRouterOutputs<AppRouter>['accountBilling'];
export type BillingDetails = Out['details'];
export type SavedCard = Out['methods']['methods'][number];
