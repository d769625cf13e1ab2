CREATE INDEX IF NOT EXISTS "webhook_attempts_delivery_idx" ON "webhook_attempts" USING btree ("tenant_id","app_id","delivery_id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "webhook_deliveries_settled_idx" ON "webhook_deliveries" USING btree ("created_at") WHERE status <> 'pending';
