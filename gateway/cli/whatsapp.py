"""`python -m gateway whatsapp templates`: the WhatsApp templates alerts need, to submit.

```sh
python -m gateway whatsapp templates            # JSON: one body of Meta's template API each
python -m gateway whatsapp templates --keys     # GATEWAY_TWILIO_WHATSAPP_CONTENT_SIDS' keys
```
Each item is what `POST https://graph.facebook.com/<version>/<WABA id>/message_templates`
takes (name, language, category UTILITY, a BODY component with its text and examples):
submit them once per language, wait for their approval, and alerts outside a parent's
24-hour window go out as them (`gateway/alerts/templates.py`). On Twilio, create the same
texts as Content templates (`{{1}}` variables) and set their SIDs per key.
Docs: https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
"""

from __future__ import annotations

import argparse
import json
import sys

from gateway.alerts.templates import definitions
from gateway.outbox.model import TemplateCall


def templates_command(args: argparse.Namespace) -> int:
    items = definitions()
    if args.keys:
        for item in items:
            call = TemplateCall(name=item["name"], lang=item["language"])
            sys.stdout.write(f"{call.key}\t{item['name']}\t{item['language']}\n")
        return 0
    json.dump(items, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `whatsapp templates` to the CLI's subcommands."""
    p_wa = sub.add_parser("whatsapp", help="WhatsApp templates of alerts")
    wa_sub = p_wa.add_subparsers(dest="whatsapp_command", required=True)
    p_templates = wa_sub.add_parser(
        "templates", help="every alert template as the JSON of Meta's template API"
    )
    p_templates.add_argument(
        "--keys", action="store_true", help="the Twilio Content SID keys, one a line"
    )
    p_templates.set_defaults(func=templates_command)
