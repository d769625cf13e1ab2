-- Coupon terms (db/schema-coupons.ts): repeating coupons counted in months, and fixed amounts that carry over
-- (what is left per customer and coupon, and each finalized invoice's spend of it).
ALTER TABLE "coupons" ADD COLUMN "duration_in_months" integer;--> statement-breakpoint
ALTER TABLE "coupons" ADD COLUMN "carry_over" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE TABLE "coupon_balances" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"coupon_id" text NOT NULL,
	"currency" text NOT NULL,
	"amount_remaining" bigint NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "coupon_balances_tenant_id_app_id_customer_id_coupon_id_pk" PRIMARY KEY("tenant_id","app_id","customer_id","coupon_id"),
	CONSTRAINT "coupon_balances_remaining_check" CHECK ("coupon_balances"."amount_remaining" >= 0)
);
--> statement-breakpoint
CREATE TABLE "coupon_spends" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"invoice_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"coupon_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "coupon_spends_tenant_id_app_id_invoice_id_pk" PRIMARY KEY("tenant_id","app_id","invoice_id"),
	CONSTRAINT "coupon_spends_amount_check" CHECK ("coupon_spends"."amount" > 0)
);
