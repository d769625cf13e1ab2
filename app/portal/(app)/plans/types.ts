import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@/server/trpc/root';

/** What the plans page's server component hands its client components (the list), and the change preview's shape. */
type Out = inferRouterOutputs<AppRouter>['accountPlans'];
export type PlansData = Out['list'];
export type PlanCardData = PlansData['plans'][number];
export type SubscriptionData = NonNullable<PlansData['subscription']>;
export type ChangePreviewData = Out['previewChange'];
