/** @type {import('next').NextConfig} */
const nextConfig = {
  // PGlite ships a WASM build of Postgres and loads its files from its own package
  // directory at run time: bundling it breaks those paths.
  serverExternalPackages: ['@electric-sql/pglite', 'postgres'],
  poweredByHeader: false,
  // The build type-checks the app only; `npm run typecheck` checks tests and scripts too.
  typescript: { tsconfigPath: 'tsconfig.build.json' },
  // The API is consumed by programs; no trailing-slash redirects.
  skipTrailingSlashRedirect: true,
};
export default nextConfig;
