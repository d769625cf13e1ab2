CREATE TABLE "credit_notes" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"number" text NOT NULL,
	"invoice_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"reason" text NOT NULL,
	"memo" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "credit_notes_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id")
);
--> statement-breakpoint
CREATE TABLE "document_sequences" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"kind" text NOT NULL,
	"next" bigint NOT NULL,
	CONSTRAINT "document_sequences_tenant_id_app_id_kind_pk" PRIMARY KEY("tenant_id","app_id","kind")
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"number" text,
	"status" text NOT NULL,
	"subscription_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"currency" text NOT NULL,
	"billing_reason" text NOT NULL,
	"key" text NOT NULL,
	"issue_at" timestamp with time zone NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"period_end" timestamp with time zone NOT NULL,
	"lines" jsonb NOT NULL,
	"subtotal" bigint NOT NULL,
	"discount" bigint NOT NULL,
	"tax" bigint NOT NULL,
	"total" bigint NOT NULL,
	"credit_applied" bigint NOT NULL,
	"credited" bigint DEFAULT 0 NOT NULL,
	"amount_due" bigint NOT NULL,
	"tax_inclusive" boolean NOT NULL,
	"tax_rate" jsonb,
	"tax_note" text,
	"coupon_id" text,
	"basis" jsonb NOT NULL,
	"customer" jsonb,
	"finalize_at" timestamp with time zone NOT NULL,
	"finalized_at" timestamp with time zone,
	"paid_at" timestamp with time zone,
	"voided_at" timestamp with time zone,
	"void_reason" text,
	"marked_uncollectible_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "invoices_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id")
);
--> statement-breakpoint
CREATE TABLE "test_clocks" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"now" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "test_clocks_tenant_id_app_id_pk" PRIMARY KEY("tenant_id","app_id")
);
--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "unbilled_from" timestamp with time zone;--> statement-breakpoint
UPDATE "subscriptions" SET "unbilled_from" = "current_period_start";--> statement-breakpoint
ALTER TABLE "subscriptions" ALTER COLUMN "unbilled_from" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "discount" jsonb;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "price_overrides" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "pending_change" jsonb;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "outbox" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "credit_notes_number_key" ON "credit_notes" USING btree ("tenant_id","app_id","number");--> statement-breakpoint
CREATE INDEX "credit_notes_invoice_idx" ON "credit_notes" USING btree ("tenant_id","app_id","invoice_id");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_subscription_key" ON "invoices" USING btree ("tenant_id","app_id","subscription_id","key");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_number_key" ON "invoices" USING btree ("tenant_id","app_id","number") WHERE "invoices"."number" is not null;--> statement-breakpoint
CREATE INDEX "invoices_customer_idx" ON "invoices" USING btree ("tenant_id","app_id","customer_id","id");--> statement-breakpoint
CREATE INDEX "invoices_drafts_idx" ON "invoices" USING btree ("tenant_id","app_id","finalize_at") WHERE "invoices"."status" = 'draft';--> statement-breakpoint
CREATE INDEX "subscriptions_due_idx" ON "subscriptions" USING btree ("tenant_id","app_id","current_period_end") WHERE "subscriptions"."status" <> 'canceled';--> statement-breakpoint
CREATE INDEX "subscriptions_outbox_idx" ON "subscriptions" USING btree ("tenant_id","app_id") WHERE "subscriptions"."outbox" <> '[]'::jsonb;