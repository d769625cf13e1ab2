import { defineConfig } from 'drizzle-kit';

// Migrations are generated from db/schema.ts and committed; the app applies them at
// start (db/migrate.ts). `npm run db:generate` after changing the schema.
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema.ts',
  out: './db/migrations',
});
