DROP INDEX "events_scope_created_idx";--> statement-breakpoint
CREATE INDEX "events_created_idx" ON "events" USING btree ("created_at");