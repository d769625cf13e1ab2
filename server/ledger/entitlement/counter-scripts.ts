import { createHash } from 'node:crypto';

/**
 * The Lua scripts that change usage counters atomically in Redis (see redis.ts for the
 * protocol: in-flight marks, versions, values set only from a clean store read).
 */
/**
 * KEYS[1] counter; ARGV version read, i, f, ttl ms. Sets the value if absent, no write
 * is in flight and the version is unchanged.
 */
const INIT_LUA = `
local g = redis.call('HGET', KEYS[1], 'g')
if not g then g = '0' end
if g ~= ARGV[1] then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'n') or '0') > 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'i') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'i', ARGV[2], 'f', ARGV[3])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1`;

/** KEYS: counters; ARGV ttl ms. Marks a write in flight on each (n + 1). */
const BEGIN_LUA = `
for _, k in ipairs(KEYS) do
  redis.call('HINCRBY', k, 'n', 1)
  if redis.call('PTTL', k) < 0 then redis.call('PEXPIRE', k, ARGV[1]) end
end
return #KEYS`;

/** KEYS: counters. Clears a write's mark (the write failed): n − 1, and bumps the version. */
const ABORT_LUA = `
for _, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 1 then
    redis.call('HINCRBY', k, 'g', 1)
    if tonumber(redis.call('HINCRBY', k, 'n', -1)) < 0 then redis.call('HSET', k, 'n', 0) end
  end
end
return #KEYS`;

/**
 * KEYS[1] counter; ARGV op (add|max|reset), i, f, ttl ms, begun (1: clear this writer's
 * in-flight mark). Bumps the version; changes only a value that exists.
 */
const APPLY_LUA = `
local k = KEYS[1]
redis.call('HINCRBY', k, 'g', 1)
if ARGV[5] == '1' then
  local n = tonumber(redis.call('HINCRBY', k, 'n', -1))
  if n < 0 then
    -- This writer's mark is gone (the key expired or Redis restarted after its commit):
    -- a reader may have set the value from the store with the batch in it. Clear it.
    redis.call('HSET', k, 'n', 0)
    redis.call('HDEL', k, 'i', 'f')
    return 1
  end
end
if redis.call('PTTL', k) < 0 then redis.call('PEXPIRE', k, ARGV[4]) end
local op = ARGV[1]
if op == 'reset' then
  redis.call('HDEL', k, 'i', 'f')
  return 1
end
local ci = redis.call('HGET', k, 'i')
if not ci then return 0 end
if op == 'add' then
  redis.call('HINCRBY', k, 'i', ARGV[2])
  local f = redis.call('HINCRBY', k, 'f', ARGV[3])
  if f >= 1000000000000 then
    redis.call('HINCRBY', k, 'f', -1000000000000)
    redis.call('HINCRBY', k, 'i', 1)
  end
  return 1
end
if op == 'max' then
  local cf = tonumber(redis.call('HGET', k, 'f') or '0')
  local ni = ARGV[2]
  local nf = tonumber(ARGV[3])
  local greater
  if #ni ~= #ci then greater = #ni > #ci elseif ni ~= ci then greater = ni > ci else greater = nf > cf end
  if greater then redis.call('HSET', k, 'i', ni, 'f', ARGV[3]) end
  return 1
end
return redis.error_reply('unknown counter op ' .. op)`;

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
export const SCRIPTS = {
  init: { lua: INIT_LUA, sha: sha1(INIT_LUA) },
  begin: { lua: BEGIN_LUA, sha: sha1(BEGIN_LUA) },
  abort: { lua: ABORT_LUA, sha: sha1(ABORT_LUA) },
  apply: { lua: APPLY_LUA, sha: sha1(APPLY_LUA) },
};
