CREATE TABLE "api_keys" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id")
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"external_id" text,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"country" text,
	"region" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "customers_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id")
);
--> statement-breakpoint
CREATE TABLE "plans" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"key" text NOT NULL,
	"version" integer NOT NULL,
	"is_latest" boolean NOT NULL,
	"status" text NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"currency" text NOT NULL,
	"interval_unit" text NOT NULL,
	"interval_count" integer NOT NULL,
	"base_price" bigint NOT NULL,
	"trial_days" integer NOT NULL,
	"features" jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "plans_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id")
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"customer_id" text NOT NULL,
	"plan_id" text NOT NULL,
	"status" text NOT NULL,
	"quantity" integer NOT NULL,
	"trial_start" timestamp with time zone,
	"trial_end" timestamp with time zone,
	"billing_anchor" timestamp with time zone NOT NULL,
	"current_period_start" timestamp with time zone NOT NULL,
	"current_period_end" timestamp with time zone NOT NULL,
	"cancel_at_period_end" boolean DEFAULT false NOT NULL,
	"canceled_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "subscriptions_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id")
);
--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_customer_fk" FOREIGN KEY ("tenant_id","app_id","customer_id") REFERENCES "public"."customers"("tenant_id","app_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_plan_fk" FOREIGN KEY ("tenant_id","app_id","plan_id") REFERENCES "public"."plans"("tenant_id","app_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_prefix_idx" ON "api_keys" USING btree ("prefix");--> statement-breakpoint
CREATE UNIQUE INDEX "customers_external_id_key" ON "customers" USING btree ("tenant_id","app_id","external_id");--> statement-breakpoint
CREATE UNIQUE INDEX "plans_key_version_key" ON "plans" USING btree ("tenant_id","app_id","key","version");--> statement-breakpoint
CREATE UNIQUE INDEX "plans_latest_key" ON "plans" USING btree ("tenant_id","app_id","key") WHERE "plans"."is_latest";--> statement-breakpoint
CREATE INDEX "subscriptions_customer_idx" ON "subscriptions" USING btree ("tenant_id","app_id","customer_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "subscriptions_one_live_key" ON "subscriptions" USING btree ("tenant_id","app_id","customer_id") WHERE "subscriptions"."status" <> 'canceled';