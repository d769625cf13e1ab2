CREATE TABLE "coupons" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"percent_off" numeric,
	"amount_off" bigint,
	"currency" text,
	"duration" text NOT NULL,
	"duration_periods" integer,
	"expires_at" timestamp with time zone,
	"max_redemptions" integer,
	"times_redeemed" integer DEFAULT 0 NOT NULL,
	"applies_to_plans" jsonb,
	"status" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "coupons_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id")
);
--> statement-breakpoint
CREATE TABLE "tax_rates" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"display_name" text NOT NULL,
	"country" text NOT NULL,
	"region" text DEFAULT '' NOT NULL,
	"percentage" numeric NOT NULL,
	"inclusive" boolean NOT NULL,
	"active" boolean NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "tax_rates_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id")
);
--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "address" jsonb;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "tax_status" text DEFAULT 'taxable' NOT NULL;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "tax_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "coupons_code_key" ON "coupons" USING btree ("tenant_id","app_id","code");--> statement-breakpoint
CREATE UNIQUE INDEX "tax_rates_active_region_key" ON "tax_rates" USING btree ("tenant_id","app_id","country","region") WHERE "tax_rates"."active";