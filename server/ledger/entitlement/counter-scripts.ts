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

/**
 * KEYS: counters; ARGV ttl ms, token. Marks a write in flight on each: its own field
 * `w:<token>`, and n + 1 (n is what readers check; the token says whose mark it is).
 */
const BEGIN_LUA = `
local w = 'w:' .. ARGV[2]
for _, k in ipairs(KEYS) do
  if redis.call('HSETNX', k, w, 1) == 1 then redis.call('HINCRBY', k, 'n', 1) end
  if redis.call('PTTL', k) < 0 then redis.call('PEXPIRE', k, ARGV[1]) end
end
return #KEYS`;

/**
 * Clears this writer's mark (field w:<token>, n − 1) and bumps the version. A mark that
 * is gone (the key expired, Redis restarted) is not taken from anybody else's count.
 */
export const DROP_MARK = `
local function dropMark(k, token)
  if redis.call('HDEL', k, 'w:' .. token) == 0 then return false end
  if tonumber(redis.call('HINCRBY', k, 'n', -1)) < 0 then redis.call('HSET', k, 'n', 0) end
  return true
end`;

/** KEYS: counters; ARGV token. Clears the marks of a write that failed. */
const ABORT_LUA = `${DROP_MARK}
for _, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 1 then
    dropMark(k, ARGV[1])
    redis.call('HINCRBY', k, 'g', 1)
  end
end
return #KEYS`;

/**
 * KEYS[1] counter; ARGV op (add|max|reset), i, f, ttl ms, token ('' when the writer set
 * no mark). Clears the writer's mark, bumps the version, and changes only a value that
 * exists. If the writer's mark is gone (the key expired or Redis restarted after its
 * commit), a reader may have set the value from the store with the batch in it: the
 * value is cleared instead.
 */
const APPLY_LUA = `${DROP_MARK}
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then return 0 end
redis.call('HINCRBY', k, 'g', 1)
if redis.call('PTTL', k) < 0 then redis.call('PEXPIRE', k, ARGV[4]) end
local op = ARGV[1]
if ARGV[5] ~= '' and not dropMark(k, ARGV[5]) then op = 'reset' end
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
