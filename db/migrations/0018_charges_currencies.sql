-- Reserved for charges_currencies: nothing to change yet.
-- minimums, percentage charges, rounding
ALTER TABLE "plans" ADD COLUMN "minimum_commitment" bigint;--> statement-breakpoint
CREATE TABLE "scope_settings" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"rounding_mode" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "scope_settings_tenant_id_app_id_pk" PRIMARY KEY("tenant_id","app_id"),
	CONSTRAINT "scope_settings_rounding_mode_check" CHECK ("scope_settings"."rounding_mode" in ('half_away_from_zero', 'half_even'))
);--> statement-breakpoint
-- multi-currency
ALTER TABLE "customers" ADD COLUMN "currency" text;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "currency_prices" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "currency" text;--> statement-breakpoint
-- A subscription made before multi-currency is in its plan's (then only) currency.
UPDATE "subscriptions" AS s SET "currency" = p."currency" FROM "plans" AS p
  WHERE p."tenant_id" = s."tenant_id" AND p."app_id" = s."app_id" AND p."id" = s."plan_id";--> statement-breakpoint
ALTER TABLE "subscriptions" ALTER COLUMN "currency" SET NOT NULL;
