import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@/server/trpc/root';

type Out = inferRouterOutputs<AppRouter>['accountPlans'];
export type PlansData = Out['list'];
export type PlanCardData = PlansData['plans'][number];
export type SubscriptionData = NonNullable<PlansData['subscription']>;
export type ChangePreviewData = Out['previewChange'];
export type CancelPreviewData = Out['previewCancel'];
