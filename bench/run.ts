/**
 * `npm run bench` prints figures, one JSON object per line; `-- --smoke` runs a short
 * version (CI: figures printed, nothing asserted); `-- --only=meter,http` runs some.
 * See README "Benchmarks".
 */
import { benchDatabaseUrl, redact } from './database';
import { benchEngine } from './engine-writes';
import { benchEntitlements } from './entitlements';
import { benchHttp } from './http';
import { benchMeterDurable } from './meter';
import { benchMetrics } from './metrics';
import { benchPayments } from './payments';
import { benchTestClocks } from './test-clocks';
import { benchUsageRead } from './usage-read';
import { benchWebhooksOut } from './webhooks-out';

const smoke = process.argv.includes('--smoke');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const url = await benchDatabaseUrl();
console.error(`# benchmarks on PostgreSQL at ${redact(url)}${smoke ? ' (smoke run)' : ''}`);

const suites: [string, () => Promise<void>][] = [
  ['engine', () => benchEngine(url, smoke ? 200 : 5_000)],
  ['meter', () => benchMeterDurable(url, smoke)],
  ['entitlements', () => benchEntitlements(url, smoke)],
  ['consume', async () => (await import('./consume')).benchConsume(url, smoke)],
  ['metrics', () => benchMetrics(url, smoke)],
  ['usage', () => benchUsageRead(url, smoke)],
  ['http', () => benchHttp(url, smoke)],
  ['test_clocks', () => benchTestClocks(url, smoke)],
  ['payments', () => benchPayments(url, smoke)],
  ['webhooks_out', () => benchWebhooksOut(url, smoke)],
  ['portal', async () => (await import('./portal')).benchPortal(url, smoke)],
];
for (const [name, run] of suites) {
  if (only && !only.includes(name)) continue;
  console.error(`# ${name}`);
  await run();
}
