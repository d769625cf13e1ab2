-- Test clocks move the customers created on them, no longer a whole scope. A clock of the
-- old kind (one per scope, no customers) cannot be mapped onto customers: it is removed,
-- and its scope is back at the real time.
DELETE FROM "test_clocks";--> statement-breakpoint
ALTER TABLE "test_clocks" DROP CONSTRAINT "test_clocks_tenant_id_app_id_pk";--> statement-breakpoint
ALTER TABLE "test_clocks" ADD COLUMN "id" text NOT NULL;--> statement-breakpoint
ALTER TABLE "test_clocks" ADD COLUMN "name" text;--> statement-breakpoint
ALTER TABLE "test_clocks" ADD CONSTRAINT "test_clocks_tenant_id_app_id_id_pk" PRIMARY KEY("tenant_id","app_id","id");--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "test_clock_id" text;--> statement-breakpoint
ALTER TABLE "customers" ADD CONSTRAINT "customers_test_clock_fk" FOREIGN KEY ("tenant_id","app_id","test_clock_id") REFERENCES "public"."test_clocks"("tenant_id","app_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customers_test_clock_idx" ON "customers" USING btree ("tenant_id","app_id","test_clock_id") WHERE "customers"."test_clock_id" is not null;
