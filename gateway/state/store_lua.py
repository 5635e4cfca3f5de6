"""The Lua scripts of `gateway.state.store`. Every key a script touches carries the same user's
hash tag (`gateway.state.keys`), so each runs on one Redis Cluster slot; Redis runs a script
atomically, so no other command of any worker interleaves with its steps."""

from __future__ import annotations

from typing import Final

# KEYS[1] session hash; ARGV: expected rev, new doc, ttl ms. Returns {1, new rev} or {0, stored}.
# A missing session counts as rev 0; stored revs start at 1.
SAVE: Final = """
local stored = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
local expected = tonumber(ARGV[1])
if stored ~= expected then
  return {0, stored}
end
redis.call('HSET', KEYS[1], 'rev', expected + 1, 'doc', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, expected + 1}
"""

# KEYS[1] lock; ARGV[1] the holder's token. Deletes only the holder's own lock.
RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# The first round trip of a turn.
# KEYS: [1] the message's remembered answer, [2] the user's lock on the channel, [3] the
#       session, [4] the user's recent turns (rate limit), then the optional keys ARGV[7]
#       names, in this order: a cache entry to read ('e'), the remembered language ('l'), the
#       provider session's end ('n': the request opens the session, forget the end; 'x':
#       check it, `gateway.state.ends`).
# ARGV: [1] lock value (a random token ending with [2]), [2] ":" .. the message's digest,
#       [3] lease ms, [4] turns allowed per window (0: no limit), [5] window ms, [6] this
#       turn's member in the set of recent turns (unique), [7] the optional keys (any of
#       'e', 'l', then 'n' or 'x'), [8] with 'x': this request's mark.
# Returns {0, rev, doc, entry, lang} RUN: the lock is ours, the turn is counted;
#         {1, answer}          REPLAY: the message was answered already, nothing else done;
#         {2}                  LIMITED: too many turns, not counted, nothing else done;
#         {3}                  WAIT: another turn holds the lock; try again shortly;
#         {4, end}             ENDED: the provider session ended on another request (its
#                              end's value), nothing else done.
# Order matters: the provider session's end first (an answer after it is never a turn, a
# repeat of the request that ended it is), then a remembered answer, so a provider's retry is
# never refused or counted; a lock held for the same message means the retry's answer is on
# its way (wait for it, uncounted); only a turn that runs is counted, when it takes the lock.
OPEN_TURN: Final = """
local at, entry_at, lang_at = 5, 0, 0
if string.find(ARGV[7], 'e', 1, true) then entry_at = at; at = at + 1 end
if string.find(ARGV[7], 'l', 1, true) then lang_at = at; at = at + 1 end
if string.find(ARGV[7], 'n', 1, true) then
  redis.call('DEL', KEYS[at])
elseif string.find(ARGV[7], 'x', 1, true) then
  local ended = redis.call('GET', KEYS[at])
  if ended then
    local ok, doc = pcall(cjson.decode, ended)
    if not (ok and type(doc) == 'table' and doc['m'] == ARGV[8]) then return {4, ended} end
  end
end
local answer = redis.call('GET', KEYS[1])
if answer then return {1, answer} end
local held = redis.call('GET', KEYS[2])
if held and string.sub(held, -string.len(ARGV[2])) == ARGV[2] then return {3} end
local limit = tonumber(ARGV[4])
local now = 0
if limit > 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[5]))
  if redis.call('ZCARD', KEYS[4]) >= limit then return {2} end
end
if held then return {3} end
if limit > 0 then
  redis.call('ZADD', KEYS[4], now, ARGV[6])
  redis.call('PEXPIRE', KEYS[4], ARGV[5])
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
local session = redis.call('HMGET', KEYS[3], 'rev', 'doc')
local entry, lang = false, false
if entry_at > 0 then entry = redis.call('GET', KEYS[entry_at]) end
if lang_at > 0 then lang = redis.call('GET', KEYS[lang_at]) end
return {0, session[1], session[2], entry, lang}
"""

# The second round trip: save, remember the answer, free the lock (and keep the provider
# session's end when the answer ends it).
# KEYS: [1] session, [2] the message's remembered answer, [3] the lock, [4] optional: the
#       provider session's end (`gateway.state.ends`).
# ARGV: [1] expected rev, [2] new doc, [3] session ttl ms, [4] answer, [5] answer ttl s,
#       [6] the lock value OPEN_TURN set, [7] with KEYS[4]: the end's value, [8] its ttl s.
# Returns {1, new rev} when saved, {0, stored rev} on a conflict (compare-and-set on rev, as
# SAVE). Either way the answer is remembered (unless one already is), the end kept and the
# lock freed if it is still ours, so a retry waiting on the lock finds the answer the moment
# the lock is free.
CLOSE_TURN: Final = """
local stored = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
local saved = 0
if stored == tonumber(ARGV[1]) then
  stored = stored + 1
  redis.call('HSET', KEYS[1], 'rev', stored, 'doc', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  saved = 1
end
redis.call('SET', KEYS[2], ARGV[4], 'NX', 'EX', ARGV[5])
if KEYS[4] then redis.call('SET', KEYS[4], ARGV[7], 'EX', ARGV[8]) end
if redis.call('GET', KEYS[3]) == ARGV[6] then redis.call('DEL', KEYS[3]) end
return {saved, stored}
"""
