-- Periods and proration (issue 11): calendar billing, customers' time zones, proration
-- lines kept for the next invoice, per-plan change rules. Every default is the old behaviour.
ALTER TABLE "customers" ADD COLUMN "time_zone" text;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "billing_cycle" text DEFAULT 'anniversary' NOT NULL;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "change_rules" jsonb;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "billing_cycle" text DEFAULT 'anniversary' NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "time_zone" text;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "pending_prorations" jsonb DEFAULT '[]'::jsonb NOT NULL;
