import { createHash } from 'node:crypto';
import { DROP_MARK } from './counter-scripts';

/**
 * The Lua scripts of `entitlements.consume` with Redis. A consumption is one script, so
 * one round trip: Redis runs a script alone, so the check and the increment cannot
 * interleave with another consumer's, in any instance. A script cannot reach the
 * database, so the usage event it accepts is appended to a Redis stream in the same
 * script (durable as Redis is), and a drainer moves the stream into the usage store
 * (consume-redis.ts).
 *
 * Values are exact decimals as the usage counters keep them (redis.ts): an integer part
 * `i` and a fraction `f` in units of 10⁻¹².
 */

/**
 * KEYS[1] the usage counter (the one `entitled` reads), KEYS[2] the answer of this
 * idempotency key, KEYS[3] the scope's pending stream, KEYS[4] the set of pending streams.
 * ARGV: 1 quantity i, 2 quantity f, 3 limit i ('' for none), 4 limit f, 5 the payload
 * (JSON: event and answer facts), 6 the writer's token, 7 counter ttl ms, 8 answer ttl ms.
 *
 * Answers {'replay', 'i f payload'} when the key was consumed before (nothing changes);
 * {'cold'} when the counter has no value (the caller computes it from the store, sets it
 * with the init script and calls again); {'denied', i, f} with the usage as it is;
 * {'allowed', i, f} with the usage after this consumption, which is then added to the
 * counter, marked in flight (w:<token>, n + 1: nobody recomputes the counter from the
 * store while the event is not in it yet), appended to the stream, and its answer kept.
 * The counter's expiry is pushed out to the full ttl once less than half of it is left,
 * so it cannot expire while an event of it waits in the stream.
 */
const CONSUME_LUA = `
local prior = redis.call('GET', KEYS[2])
if prior then return {'replay', prior} end
local k = KEYS[1]
local cur = redis.call('HMGET', k, 'i', 'f')
if not cur[1] then return {'cold'} end
local ci = tonumber(cur[1])
local cf = tonumber(cur[2] or '0')
if ARGV[3] ~= '' then
  local ni = ci + tonumber(ARGV[1])
  local nf = cf + tonumber(ARGV[2])
  if nf >= 1000000000000 then
    nf = nf - 1000000000000
    ni = ni + 1
  end
  local li = tonumber(ARGV[3])
  local lf = tonumber(ARGV[4])
  if ni > li or (ni == li and nf > lf) then return {'denied', cur[1], cur[2] or '0'} end
end
redis.call('HINCRBY', k, 'i', ARGV[1])
if redis.call('HINCRBY', k, 'f', ARGV[2]) >= 1000000000000 then
  redis.call('HINCRBY', k, 'f', -1000000000000)
  redis.call('HINCRBY', k, 'i', 1)
end
-- Read back as strings: Lua's tostring would print a large number as 1e+15.
local now = redis.call('HMGET', k, 'i', 'f')
redis.call('HINCRBY', k, 'g', 1)
if redis.call('HSETNX', k, 'w:' .. ARGV[6], 1) == 1 then redis.call('HINCRBY', k, 'n', 1) end
if redis.call('PTTL', k) < tonumber(ARGV[7]) / 2 then redis.call('PEXPIRE', k, ARGV[7]) end
redis.call('SET', KEYS[2], now[1] .. ' ' .. now[2] .. ' ' .. ARGV[5], 'PX', ARGV[8])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[5], 'i', now[1], 'f', now[2])
redis.call('SADD', KEYS[4], KEYS[3])
return {'allowed', now[1], now[2]}`;

/**
 * KEYS: the usage counters of a drained batch, one per event (repeats allowed); ARGV, four
 * per key: the writer's token, '1' when the event was not stored (its key belonged to
 * another event: its quantity is taken back out), quantity i, quantity f. Run by the
 * drainer once the batch is in the store: clears each event's mark and bumps the
 * version. A mark that is gone (the counter was lost and set again from the store
 * meanwhile) means nobody can tell whether the value has the event: the value is
 * cleared, and the next reader computes it from the store, which has it now.
 */
const SETTLE_LUA = `${DROP_MARK}
for n, k in ipairs(KEYS) do
  local a = (n - 1) * 4
  if redis.call('EXISTS', k) == 1 then
    redis.call('HINCRBY', k, 'g', 1)
    if not dropMark(k, ARGV[a + 1]) then
      redis.call('HDEL', k, 'i', 'f')
    elseif ARGV[a + 2] == '1' and redis.call('HEXISTS', k, 'i') == 1 then
      if ARGV[a + 3] ~= '0' then redis.call('HINCRBY', k, 'i', '-' .. ARGV[a + 3]) end
      local f = tonumber(redis.call('HGET', k, 'f') or '0')
      if ARGV[a + 4] ~= '0' then f = redis.call('HINCRBY', k, 'f', '-' .. ARGV[a + 4]) end
      if f < 0 then
        redis.call('HINCRBY', k, 'f', 1000000000000)
        redis.call('HINCRBY', k, 'i', -1)
      end
    end
  end
end
return #KEYS`;

/** KEYS[1] a drain lock; ARGV[1] its holder. Releases it only if still held by that holder. */
const UNLOCK_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** KEYS[1] a pending stream, KEYS[2] the set of them: forgets the stream once it is empty. */
const FORGET_EMPTY_LUA = `
if redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  return redis.call('SREM', KEYS[2], KEYS[1])
end
return 0`;

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const script = (lua: string) => ({ lua, sha: sha1(lua) });
export const CONSUME_SCRIPTS = {
  consume: script(CONSUME_LUA),
  settle: script(SETTLE_LUA),
  unlock: script(UNLOCK_LUA),
  forgetEmpty: script(FORGET_EMPTY_LUA),
};
