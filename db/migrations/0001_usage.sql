CREATE SEQUENCE "public"."usage_events_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "usage_distinct" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"feature_key" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "usage_distinct_pkey" PRIMARY KEY("tenant_id","app_id","customer_id","feature_key","hour","value")
);
--> statement-breakpoint
CREATE TABLE "usage_events" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"customer_id" text NOT NULL,
	"feature_key" text NOT NULL,
	"quantity" numeric NOT NULL,
	"timestamp" timestamp with time zone NOT NULL,
	"properties" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"distinct_value" text,
	"seq" bigint NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"series" bigint GENERATED ALWAYS AS (hashtextextended(tenant_id || '|' || app_id || '|' || customer_id || '|' || feature_key, 0)) STORED NOT NULL,
	CONSTRAINT "usage_events_pkey" PRIMARY KEY("tenant_id","app_id","idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "usage_rollups" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"feature_key" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"sum" numeric NOT NULL,
	"count" bigint NOT NULL,
	"max" numeric NOT NULL,
	"latest_value" numeric NOT NULL,
	"latest_at" timestamp with time zone NOT NULL,
	"latest_seq" bigint NOT NULL,
	CONSTRAINT "usage_rollups_pkey" PRIMARY KEY("tenant_id","app_id","customer_id","feature_key","hour")
);
--> statement-breakpoint
CREATE INDEX "usage_events_series_ts_idx" ON "usage_events" USING btree ("series","timestamp");