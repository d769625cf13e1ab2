-- Test clocks move the customers created on them, no longer a whole scope. A clock of the
-- old kind (one per scope) moved every customer of its scope: it becomes a clock of the new
-- kind with every customer of the scope on it, so nobody's time changes (and none of them is
-- billed at the real time for periods the rehearsal had not reached), and its scope becomes
-- a test scope, where test clocks live. Its id is a constant: ids are per scope.
ALTER TABLE "test_clocks" DROP CONSTRAINT "test_clocks_tenant_id_app_id_pk";--> statement-breakpoint
ALTER TABLE "test_clocks" ADD COLUMN "id" text;--> statement-breakpoint
ALTER TABLE "test_clocks" ADD COLUMN "name" text;--> statement-breakpoint
UPDATE "test_clocks" SET "id" = 'clk_00000000000000000000000000', "name" = 'The scope''s clock (before clocks per customer)';--> statement-breakpoint
ALTER TABLE "test_clocks" ALTER COLUMN "id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "test_clocks" ADD CONSTRAINT "test_clocks_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id");--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "test_clock_id" text;--> statement-breakpoint
UPDATE "customers" SET "test_clock_id" = k."id" FROM "test_clocks" k WHERE k."tenant_id" = "customers"."tenant_id" AND k."app_id" = "customers"."app_id";--> statement-breakpoint
INSERT INTO "scopes" ("tenant_id", "app_id", "mode", "created_at") SELECT "tenant_id", "app_id", 'test', now() FROM "test_clocks" ON CONFLICT DO NOTHING;--> statement-breakpoint
ALTER TABLE "customers" ADD CONSTRAINT "customers_test_clock_fk" FOREIGN KEY ("tenant_id","app_id","test_clock_id") REFERENCES "public"."test_clocks"("tenant_id","app_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customers_test_clock_idx" ON "customers" USING btree ("tenant_id","app_id","test_clock_id") WHERE "customers"."test_clock_id" is not null;
