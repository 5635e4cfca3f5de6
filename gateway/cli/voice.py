"""`python -m gateway voice prompts`: every prompt of the hotline, for the people who record them.

```sh
python -m gateway voice prompts                 # lang, file, recorded?, text to read
python -m gateway voice prompts --lang ar --missing
```
A line says which file under `GATEWAY_VOICE_PROMPTS_DIR/<lang>/` plays instead of the voice,
and the exact words to record. Sentences with values in them (names, marks, dates) are not
listed for Arabic and French: the voice says them. For Darija (no voice) the list also holds
the fixed parts of those sentences and the words numbers, days and months are made of, the
Arabic text being the script to say in Darija.
"""

from __future__ import annotations

import argparse
import sys

from gateway.channels.voice.prompts import DARIJA, all_prompts, darija_prompts
from gateway.i18n import LANGS
from gateway.settings import Settings


def prompts_command(args: argparse.Namespace) -> int:
    folder = Settings().voice_prompts_dir
    out = sys.stdout
    shown = 0
    for prompt in (*all_prompts(), *darija_prompts()):
        if args.lang and prompt.lang != args.lang:
            continue
        path = folder / prompt.lang / prompt.file_name if folder is not None else None
        recorded = path is not None and path.is_file()
        if args.missing and recorded:
            continue
        mark = "recorded" if recorded else "-"
        out.write(f"{prompt.lang}\t{prompt.lang}/{prompt.file_name}\t{mark}\t{prompt.text}\n")
        shown += 1
    where = f"under {folder}" if folder is not None else "(GATEWAY_VOICE_PROMPTS_DIR is unset)"
    sys.stderr.write(f"{shown} prompts {where}\n")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `voice prompts` to the CLI's subcommands."""
    p_voice = sub.add_parser("voice", help="the hotline's voice menu")
    voice_sub = p_voice.add_subparsers(dest="voice_command", required=True)
    p_prompts = voice_sub.add_parser("prompts", help="every prompt with its text and file name")
    p_prompts.add_argument("--lang", choices=(*LANGS, DARIJA), default=None)
    p_prompts.add_argument("--missing", action="store_true", help="only those not recorded yet")
    p_prompts.set_defaults(func=prompts_command)
