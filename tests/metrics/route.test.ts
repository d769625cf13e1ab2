import { describe, expect, it } from 'vitest';
import { createMetricsPlugin } from '@/server/plugins/metrics/plugin';
import { metricsResponse } from '@/server/plugins/metrics/scrape';
import { useMemoryRuntimeEnv } from '../support/runtime';
import { sample } from './samples';

const TOKEN = 'scrape-token-0123456789abcdef';
useMemoryRuntimeEnv();
process.env.LEDGER_METRICS_TOKEN = TOKEN;
const { GET } = await import('@/app/api/metrics/route');

const scrape = (authorization?: string) =>
  GET(new Request('http://test/api/metrics', { headers: authorization ? { authorization } : {} }));

describe('GET /api/metrics with LEDGER_METRICS_TOKEN set', () => {
  it('401 without a token, with a wrong one, with the right one in another scheme; a Bearer challenge', async () => {
    for (const auth of [undefined, 'Bearer wrong-token-0123456789abcdef', `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, `Bearer ${TOKEN.slice(0, -1)}`]) {
      const res = await scrape(auth);
      expect(res.status, String(auth)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      const body = await res.json();
      expect(body.code).toBe('unauthorized');
      expect(JSON.stringify(body)).not.toContain(TOKEN);
    }
  });

  it('200 in the Prometheus text format with the right token: # TYPE lines, Node default metrics, the engine metrics, and the requests it answered', async () => {
    const res = await scrape(`Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(text).toContain('# TYPE ledger_entitlement_checks_total counter');
    expect(text).toContain('# TYPE ledger_http_request_duration_seconds histogram');
    expect(text).toContain('# TYPE ledger_meter_buffered_events gauge');
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter'); // Node's default metrics
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    // The five refusals of the test above, timed through apiRoute under the route's name.
    expect(sample(text, 'ledger_http_request_duration_seconds_count', { route: 'GET /api/metrics', method: 'GET', status_class: '4xx' })).toBe(5);
  });

  it('a scrape is itself counted: the next one shows the 200', async () => {
    const text = await (await scrape(`Bearer ${TOKEN}`)).text();
    expect(sample(text, 'ledger_http_request_duration_seconds_count', { route: 'GET /api/metrics', method: 'GET', status_class: '2xx' })).toBe(1);
  });
});

describe('the scrape answer without a token, and with metrics off', () => {
  it('no LEDGER_METRICS_TOKEN: 200 to anyone', async () => {
    const res = await metricsResponse(new Request('http://test/api/metrics'), createMetricsPlugin({ defaultMetrics: false }), undefined);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('# TYPE ledger_invoices_total counter');
  });

  it('LEDGER_METRICS=0: 404, and nothing is served even with the token', async () => {
    const res = await metricsResponse(new Request('http://test/api/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }), null, TOKEN);
    expect(res.status).toBe(404);
    expect((await res.json()).code).toBe('not_found');
  });
});
