CREATE TABLE "events" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"object_id" text NOT NULL,
	"customer_id" text,
	"data" jsonb NOT NULL,
	"previous" jsonb,
	"actor" jsonb,
	"created_at" timestamp with time zone NOT NULL,
	"dispatched_at" timestamp with time zone,
	CONSTRAINT "events_pkey" PRIMARY KEY("tenant_id","app_id","id")
);
--> statement-breakpoint
CREATE INDEX "events_scope_created_idx" ON "events" USING btree ("tenant_id","app_id","created_at","id");--> statement-breakpoint
CREATE INDEX "events_scope_object_idx" ON "events" USING btree ("tenant_id","app_id","object_id");--> statement-breakpoint
CREATE INDEX "events_undispatched_idx" ON "events" USING btree ("created_at") WHERE dispatched_at is null;