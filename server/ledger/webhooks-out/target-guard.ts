import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { invalid } from '../types';

/**
 * The SSRF guard of outbound webhooks. A tenant names the URL, and the server that calls
 * it sits inside our network: without a guard, an endpoint of `http://169.254.169.254/…`
 * or `http://10.0.0.5/admin` would make us its proxy. So:
 * - https only, unless `allowHttp` (development and tests);
 * - no loopback, private, link-local, shared (CGNAT), multicast or reserved address,
 *   IPv4 or IPv6 (IPv4-mapped IPv6 checked as IPv4), unless `allowPrivate`;
 * - the host name is resolved at each delivery, every address it has is checked, and the
 *   connection goes to a checked address (no second lookup a DNS rebinding could answer
 *   differently);
 * - redirects are never followed (the sender does not).
 */
export interface TargetGuard {
  /** Allow http:// URLs (default: only when allowPrivate, or NODE_ENV is development or test). */
  allowHttp: boolean;
  /** Allow loopback and private targets (LEDGER_WEBHOOKS_ALLOW_PRIVATE=1; the tests set it). */
  allowPrivate: boolean;
}

/** The guard from the environment: LEDGER_WEBHOOKS_ALLOW_PRIVATE=1 allows private targets and http. */
export function targetGuardFromEnv(env: Record<string, string | undefined> = process.env): TargetGuard {
  const allowPrivate = env.LEDGER_WEBHOOKS_ALLOW_PRIVATE === '1';
  return { allowPrivate, allowHttp: allowPrivate || env.NODE_ENV === 'development' || env.NODE_ENV === 'test' };
}

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // shared address space (CGNAT)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64: an IPv4 address inside
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

/** Whether an address is one a webhook must not reach (loopback, private, link-local…). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true; // not an address: refuse
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  // ::ffff:7f00:1 (hex form of an IPv4-mapped address)
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const n = (parseInt(hex[1]!, 16) << 16) | parseInt(hex[2]!, 16);
    return blocked.check([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), 'ipv4');
  }
  return blocked.check(address, 'ipv6');
}

/** The URL's host without IPv6 brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Checks what can be checked without a lookup, when an endpoint is created or changed:
 * a URL, http(s), no credentials in it, https unless allowed, and a literal address
 * that is not private. Throws `invalid` with the reason.
 */
export function checkEndpointUrl(raw: string, guard: TargetGuard): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('the endpoint URL is not a URL', [{ path: 'url', message: 'not a URL' }]);
  }
  const refuse = (message: string) => invalid(`the endpoint URL is refused: ${message}`, [{ path: 'url', message }]);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('only https URLs are allowed');
  if (url.protocol === 'http:' && !guard.allowHttp) throw refuse('only https URLs are allowed');
  if (url.username || url.password) throw refuse('credentials in the URL are not allowed');
  const host = hostOf(url);
  if (!guard.allowPrivate && (isIP(host) ? isPrivateAddress(host) : /^localhost\.?$/i.test(host) || host.endsWith('.localhost'))) {
    throw refuse('loopback, private and link-local targets are not allowed');
  }
  return url;
}

/**
 * checkEndpointUrl's answer for a URL, kept per guard: it is asked on every attempt and
 * depends only on its inputs. A host that is an address literal is resolved by the check
 * itself, so its whole answer is kept too; a name is looked up every time.
 */
type Checked = { ok: true; url: URL; host: string; literal: ResolvedTarget | null } | { ok: false; error: string };
const checkedUrls = new WeakMap<TargetGuard, Map<string, Checked>>();
function checkedUrl(raw: string, guard: TargetGuard): Checked {
  let known = checkedUrls.get(guard);
  if (!known) checkedUrls.set(guard, (known = new Map()));
  let answer = known.get(raw);
  if (!answer) {
    try {
      const url = checkEndpointUrl(raw, guard);
      const host = hostOf(url);
      const family = isIP(host);
      answer = { ok: true, url, host, literal: family ? checkAddresses(url, host, [{ address: host, family }], guard) : null };
    } catch (e) {
      answer = { ok: false, error: (e as Error).message };
    }
    if (known.size >= 1_000) known.clear();
    known.set(raw, answer);
  }
  return answer;
}

export type ResolvedTarget = { ok: true; url: URL; address: string; family: 4 | 6 } | { ok: false; error: string };

/** The target when no lookup is needed (a refused URL, or an address literal); null for a host name. */
export function resolveTargetNow(raw: string, guard: TargetGuard): ResolvedTarget | null {
  const checked = checkedUrl(raw, guard);
  return checked.ok ? checked.literal : checked;
}

/**
 * Resolves an endpoint's host at delivery time and checks every address it has: one
 * private address refuses the target (a name answering both is the rebinding trick).
 */
export async function resolveTarget(raw: string, guard: TargetGuard): Promise<ResolvedTarget> {
  const checked = checkedUrl(raw, guard);
  if (!checked.ok) return checked;
  if (checked.literal) return checked.literal;
  const { url, host } = checked;
  let addresses: { address: string; family: number }[];
  try {
    addresses = await lookup(host, { all: true, verbatim: true });
  } catch (e) {
    return { ok: false, error: `the host ${host} could not be resolved: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  return checkAddresses(url, host, addresses, guard);
}

function checkAddresses(url: URL, host: string, addresses: { address: string; family: number }[], guard: TargetGuard): ResolvedTarget {
  if (addresses.length === 0) return { ok: false, error: `the host ${host} has no address` };
  if (!guard.allowPrivate) {
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) return { ok: false, error: `refused: ${host} resolves to ${bad.address}, a loopback, private or link-local address` };
  }
  const first = addresses[0]!;
  return { ok: true, url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
