"""Every key of one deployment's outbox, under one hash tag (one Redis Cluster slot)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.state.outbox.priority import Priority

__all__ = ["OutboxKeys"]


@dataclass(frozen=True, slots=True)
class OutboxKeys:
    """`<prefix>:{outbox:<ns>}:<what>`: one deployment's outbox (`ns` comes from its identity
    key, so two deployments, or two test runs, sharing a Redis never read each other's)."""

    prefix: str = "mg"
    ns: str = ""

    @property
    def tag(self) -> str:
        return "{outbox:" + self.ns + "}" if self.ns else "{outbox}"

    def stream(self, priority: Priority) -> str:
        return f"{self.prefix}:{self.tag}:q:{int(priority)}"

    @property
    def delayed(self) -> str:
        return f"{self.prefix}:{self.tag}:delayed"

    @property
    def dead(self) -> str:
        return f"{self.prefix}:{self.tag}:dead"

    def idem(self, key_h: str) -> str:
        return f"{self.prefix}:{self.tag}:idem:{key_h}"

    def sent(self, key_h: str) -> str:
        return f"{self.prefix}:{self.tag}:sent:{key_h}"

    def lease(self, key_h: str) -> str:
        return f"{self.prefix}:{self.tag}:lease:{key_h}"

    def guard(self, guard_h: str) -> str:
        return f"{self.prefix}:{self.tag}:guard:{guard_h}"

    def bucket(self, channel: str) -> str:
        return f"{self.prefix}:{self.tag}:tb:{channel}"

    def link_bucket(self, channel: str, link: str) -> str:
        """One operator link's pace (`link`: a Kannel smsc-id), beside the channel's own."""
        return self.bucket(f"{channel}-link:{link}")

    def chat_bucket(self, chat_h: str) -> str:
        """One Telegram chat's pace (`chat_h`: a keyed hash of the chat id)."""
        return self.bucket(f"telegram-chat:{chat_h}")

    @property
    def sink(self) -> str:
        """What the sink sender received (`gateway.state.outbox.sink`)."""
        return f"{self.prefix}:{self.tag}:sink"
