"""Signed Twilio SMS requests for wrk: the SMS turn beside the USSD one.

wrk's Lua has no HMAC, so every request is signed here beforehand, as Twilio signs it
(`X-Twilio-Signature`: HMAC-SHA1 of the public URL and the sorted fields, with the auth
token), written one per line (`body<TAB>signature`) to a file that each wrk thread reads its
share of. Each request has a new `MessageSid`, so the gateway's dedupe never replays one; if
wrk sends more requests than the file holds it starts again from the top and says how many
times it did (`replayed`), so a figure inflated by replays is visible.

The turn: a guardian's `MENU` keyword (the SMS twin of a USSD dial: the guardian lookup,
cached after the warm-up, and the main menu as TwiML).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

SMS_PATH = "/channels/sms/twilio"
PUBLIC_URL = "http://127.0.0.1:8000"  # GATEWAY_PUBLIC_URL's default: what the gateway checks
AUTH_TOKEN = "demo-twilio-auth-token"  # noqa: S105 - the demo default of GATEWAY_TWILIO_AUTH_TOKEN
ACCOUNT = "AC" + "0" * 32
SHORT_CODE = "+212500000000"
BODY = "MENU"


def write_signed_requests(path: Path, phones: Sequence[str], *, run: str, count: int) -> None:
    """`count` signed inbound SMS from `phones` in turn, one `body<TAB>signature` a line."""
    validator = RequestValidator(AUTH_TOKEN)
    url = PUBLIC_URL + SMS_PATH
    with path.open("w") as out:
        for i in range(count):
            params = {
                "MessageSid": "SM" + hashlib.md5(f"{run}:{i}".encode()).hexdigest(),  # noqa: S324
                "AccountSid": ACCOUNT,
                "From": phones[i % len(phones)],
                "To": SHORT_CODE,
                "Body": BODY,
                "NumSegments": "1",
            }
            signature = validator.compute_signature(url, params)
            out.write(f"{urlencode(params)}\t{signature}\n")


def sms_lua(requests: Path, *, threads: int) -> str:
    """A wrk script sending the signed requests of `requests`, each thread its own share."""
    return f"""
local bodies, signatures = {{}}, {{}}
local counter = 0
replayed = 0  -- a global: `done` reads it from each thread
local threads = {{}}
local next_id = 0
setup = function(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
init = function(args)
  local i = 0
  for line in io.lines("{requests}") do
    if i % {threads} == tid then
      local tab = line:find("\\t", 1, true)
      table.insert(bodies, line:sub(1, tab - 1))
      table.insert(signatures, line:sub(tab + 1))
    end
    i = i + 1
  end
end
request = function()
  counter = counter + 1
  if counter > #bodies then
    counter = 1
    replayed = replayed + 1
  end
  return wrk.format("POST", "{SMS_PATH}", {{
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = signatures[counter],
  }}, bodies[counter])
end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("replayed") or 0)
  end
  io.write("replayed: " .. total .. "\\n")
end
"""
