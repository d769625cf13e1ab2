/**
 * A separate process for tests/webhooks-out/send-thread.test.ts: an engine on the memory
 * store sends a test message through a sender thread to a receiver of its own, prints the
 * attempt, then either shuts the engine down (`shutdown`) or leaves it as it is (`idle`).
 * It must then exit by itself: the sender thread keeps no process alive.
 *   <shutdown|idle>
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLedger, scope, silentLogger } from '../../server/ledger';

const [mode] = process.argv.slice(2) as ['shutdown' | 'idle'];
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end(req.headers['webhook-signature'] ? 'signed' : 'unsigned'));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const ledger = await createLedger({ logger: silentLogger, webhooksOut: { guard: { allowHttp: true, allowPrivate: true }, senderThreads: 1 } });
const s = scope('send-thread-child', 'app');
await ledger.scopes.register(s, 'test');
const { endpoint } = await ledger.webhooksOut.create(s, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` });
const { attempt } = await ledger.webhooksOut.sendTest(s, endpoint.id);
console.log(`ATTEMPT ${JSON.stringify({ status: attempt.status, responseCode: attempt.responseCode, responseBody: attempt.responseBody })}`);
server.closeAllConnections();
server.close();
if (mode === 'shutdown') await ledger.shutdown();
