CREATE TABLE "entitlement_consumptions" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"customer_id" text NOT NULL,
	"feature_key" text NOT NULL,
	"quantity" numeric NOT NULL,
	"event_id" text NOT NULL,
	"used" numeric NOT NULL,
	"limit" numeric,
	"period_start" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "entitlement_consumptions_pkey" PRIMARY KEY("tenant_id","app_id","idempotency_key")
);
