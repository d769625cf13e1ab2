/**
 * `npm run bench` prints figures, one JSON object per line; `-- --smoke` runs a short
 * version (CI: figures printed, nothing asserted). See README "Benchmarks".
 */
import { benchDatabaseUrl, redact } from './database';
import { benchEngine } from './engine-writes';

const smoke = process.argv.includes('--smoke');
const url = await benchDatabaseUrl();
console.error(`# benchmarks on PostgreSQL at ${redact(url)}${smoke ? ' (smoke run)' : ''}`);
await benchEngine(url, smoke ? 200 : 5_000);
