CREATE TABLE "scopes" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"mode" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "scopes_tenant_id_app_id_pk" PRIMARY KEY("tenant_id","app_id"),
	CONSTRAINT "scopes_mode_check" CHECK ("scopes"."mode" in ('live', 'test'))
);
