"""The outbox's Lua scripts, each on one hash tag (one Redis Cluster slot).

The queue's (enqueue, claim, renew, finish, release, later, promote) are run by
`gateway.state.outbox.streams`; the token bucket's (`TAKE`) by `gateway.state.outbox.bucket`.
"""

from __future__ import annotations

__all__ = ["CLAIM", "ENQUEUE", "FINISH", "LATER", "PROMOTE", "RELEASE", "RENEW", "TAKE"]

# KEYS: idem, stream, guard. ARGV: entry, idem ttl s, guard ttl s, "1" if guarded.
# (Without a guard KEYS[3] repeats KEYS[1]: an empty key name would hash to another slot.)
# Returns the new entry id, or "dup" (key already queued) or "guarded" (one already pending).
# No MAXLEN: a queued message leaves its stream only once it is done (bulk producers wait at
# `gateway.outbox.pressure.BulkGate` instead of the stream being trimmed).
ENQUEUE = """
local guarded = ARGV[4] == '1'
if guarded and redis.call('EXISTS', KEYS[3]) == 1 then return 'guarded' end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 'dup' end
if guarded then redis.call('SET', KEYS[3], '1', 'EX', ARGV[3]) end
return redis.call('XADD', KEYS[2], '*', 'm', ARGV[1])
"""

# KEYS: sent marker, lease. ARGV: token, lease ms.
# Returns {"sent", provider id} | {"busy"} | {"ok"}.
CLAIM = """
local sent = redis.call('GET', KEYS[1])
if sent then return {'sent', sent} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'ok'} end
return {'busy'}
"""

# KEYS: sent marker, lease, guard (the lease again when there is none).
# ARGV: provider id, sent ttl s, token. Marks the key sent, frees the lease and the guard.
FINISH = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
if KEYS[3] ~= KEYS[2] then redis.call('DEL', KEYS[3]) end
return 1
"""

# KEYS: sent marker, lease. ARGV: token, lease ms.
# Just before a send: 1 when the lease is still ours (and is renewed), 0 when it ran out
# (another worker may have the message now) or the key was sent meanwhile.
RENEW = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

# KEYS: lease. ARGV: token.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: delayed, stream (the entry's). ARGV: group, entry id, new entry, due ms.
LATER = """
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
return 1
"""

# KEYS: delayed, stream 0, stream 1, stream 2. ARGV: limit.
# Moves entries due by Redis' clock to their priority's stream; returns how many.
PROMOTE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[1])
for _, entry in ipairs(due) do
  local pri = tonumber(string.match(entry, '"pri":(%d)')) or 2
  redis.call('XADD', KEYS[2 + pri], '*', 'm', entry)
  redis.call('ZREM', KEYS[1], entry)
end
return #due
"""

# KEYS[1] the bucket (hash: tokens, at ms). ARGV: rate per s, burst, tokens wanted, and
# optionally the time in ms (tests' clock; else Redis' own).
# Returns {tokens taken (up to those wanted), ms until the next one when none was there}.
TAKE = """
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local taken = math.min(tonumber(ARGV[3]), math.floor(tokens))
local wait = 0
if taken >= 1 then
  tokens = tokens - taken
else
  taken = 0
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 60000)
return {taken, wait}
"""
