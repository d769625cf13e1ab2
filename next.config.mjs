/** @type {import('next').NextConfig} */
const nextConfig = {
  // PGlite ships a WASM build of Postgres and loads its files from its own package
  // directory at run time: bundling it breaks those paths.
  serverExternalPackages: ['@electric-sql/pglite', 'postgres'],
  poweredByHeader: false,
  typescript: {
    tsconfigPath: 'tsconfig.build.json',
    // The build does not type-check: `npm run typecheck` (tsc --noEmit over every file:
    // app, engine, tests and scripts) does, in CI and in `npm test`, and it checks more
    // than the build's pass did. Types do not change what the build emits, so a first
    // `npm start` no longer spends ~25 s (a third of it, on 2 cores) checking them again;
    // syntax and import errors still fail the build.
    ignoreBuildErrors: true,
  },
  // The API is consumed by programs; no trailing-slash redirects.
  skipTrailingSlashRedirect: true,
};
export default nextConfig;
