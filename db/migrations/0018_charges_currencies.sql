-- Reserved for charges_currencies: nothing to change yet.
-- minimums, percentage charges, rounding
SELECT 1;--> statement-breakpoint
-- multi-currency
ALTER TABLE "customers" ADD COLUMN "currency" text;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "currency_prices" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "currency" text;--> statement-breakpoint
-- A subscription made before multi-currency is in its plan's (then only) currency.
UPDATE "subscriptions" AS s SET "currency" = p."currency" FROM "plans" AS p
  WHERE p."tenant_id" = s."tenant_id" AND p."app_id" = s."app_id" AND p."id" = s."plan_id";--> statement-breakpoint
ALTER TABLE "subscriptions" ALTER COLUMN "currency" SET NOT NULL;
