-- Prepaid credit wallets (db/schema-wallets.ts), and the credits an invoice took from one.
ALTER TABLE "invoices" ADD COLUMN "wallet_applied" bigint DEFAULT 0 NOT NULL;
--> statement-breakpoint
CREATE TABLE "wallets" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"customer_id" text NOT NULL,
	"currency" text NOT NULL,
	"balance" bigint DEFAULT 0 NOT NULL,
	"auto_top_up" jsonb,
	"recurring_grants" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"next_due_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "wallets_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id"),
	CONSTRAINT "wallets_balance_check" CHECK ("wallets"."balance" >= 0)
);
--> statement-breakpoint
CREATE TABLE "wallet_grants" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"wallet_id" text NOT NULL,
	"key" text NOT NULL,
	"source" text NOT NULL,
	"amount" bigint NOT NULL,
	"remaining" bigint NOT NULL,
	"priority" integer NOT NULL,
	"expires_at" timestamp with time zone,
	"feature_keys" jsonb,
	"invoice_id" text,
	"description" text NOT NULL,
	"expired_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "wallet_grants_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id"),
	CONSTRAINT "wallet_grants_remaining_check" CHECK ("wallet_grants"."remaining" >= 0 and "wallet_grants"."remaining" <= "wallet_grants"."amount")
);
--> statement-breakpoint
CREATE TABLE "wallet_entries" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"wallet_id" text NOT NULL,
	"type" text NOT NULL,
	"amount" bigint NOT NULL,
	"balance_after" bigint NOT NULL,
	"grant_id" text,
	"invoice_id" text,
	"description" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "wallet_entries_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "wallets_customer_currency_key" ON "wallets" USING btree ("tenant_id","app_id","customer_id","currency");--> statement-breakpoint
CREATE INDEX "wallets_due_idx" ON "wallets" USING btree ("tenant_id","app_id","next_due_at") WHERE "wallets"."next_due_at" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_grants_key" ON "wallet_grants" USING btree ("tenant_id","app_id","wallet_id","key");--> statement-breakpoint
CREATE INDEX "wallet_grants_live_idx" ON "wallet_grants" USING btree ("tenant_id","app_id","wallet_id") WHERE "wallet_grants"."remaining" > 0;--> statement-breakpoint
CREATE INDEX "wallet_entries_wallet_idx" ON "wallet_entries" USING btree ("tenant_id","app_id","wallet_id","id");
