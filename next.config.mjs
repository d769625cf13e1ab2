/** @type {import('next').NextConfig} */
const nextConfig = {
  // PGlite ships a WASM build of Postgres and loads its files from its own package
  // directory at run time: bundling it breaks those paths. pdfkit likewise reads its
  // standard fonts' metrics (data/*.afm) from its package directory.
  serverExternalPackages: ['@electric-sql/pglite', 'postgres', 'pdfkit'],
  poweredByHeader: false,
  typescript: {
    tsconfigPath: 'tsconfig.build.json',
    // The build does not type-check: `npm run typecheck` (tsc --noEmit over every file:
    // app, engine, tests and scripts, a superset of the build's pass) does, in CI (.ci/run).
    // Types do not change what the build emits, so a first `npm start` no longer spends
    // ~25 s (a third of it, on 2 cores) checking them again; syntax and import errors
    // still fail the build.
    ignoreBuildErrors: true,
  },
  // The API is consumed by programs; no trailing-slash redirects.
  skipTrailingSlashRedirect: true,
  experimental: {
    // The server bundle is not minified (the browser's still is): it runs in one long-lived
    // `next start` process, where minifying buys nothing at run time and costs the first
    // build about a quarter of its CPU time (measured here: 43 → 33 CPU-seconds), and
    // unminified server code keeps stack traces readable. Next.js lists it as an experiment.
    turbopackMinify: { server: false, client: true },
  },
};
export default nextConfig;
