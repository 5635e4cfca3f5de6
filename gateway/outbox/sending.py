"""One message through a sender worker: claim, compose, pace, send, and its outcome.

    claim (sent already? leased by a live worker?)
      -> a follow-up's text composed (backend still down: try later, give up after max age)
      -> tokens from its operator link's bucket (an SMS: one per part) and the channel's
      -> lease still ours? -> sender.send -> mark sent
      -> outcome noted (recorded and acknowledged in a batch, `gateway.outbox.outcomes`)

Retries: a retryable `SendError` queues the message again after a full-jitter exponential
backoff (or the provider's Retry-After), up to `max_attempts`; a permanent one is recorded as
failed at once.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

import anyio
import structlog

from gateway.outbox.entries import Entry
from gateway.outbox.model import OutChannel, OutMessage, SendError
from gateway.outbox.outcomes import OutcomeBatch
from gateway.outbox.queue import Claim, Outbox
from gateway.outbox.senders.base import Sender
from gateway.outbox.throttle import LinkPacers, Pacer
from gateway.outbox.worker_config import Composer, WorkerConfig, backoff_s, count_metric
from gateway.resilience.metrics import Metrics
from gateway.state.errors import StoreUnavailable
from gateway.state.outbox.records import Outcome

__all__ = ["MessageSending"]

log = structlog.get_logger("gateway.outbox")


class MessageSending:
    """Sends one claimed message at its channel's pace and notes what became of it."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        senders: Mapping[OutChannel, Sender],
        pacers: Mapping[OutChannel, Pacer],
        outcomes: OutcomeBatch,
        config: WorkerConfig,
        composer: Composer | None,
        metrics: Metrics | None,
        rng: random.Random,
        on_opted_out: Callable[[OutChannel, str], Awaitable[None]] | None,
        links: LinkPacers | None = None,
    ) -> None:
        self.outbox = outbox
        self.links = links  # SMS: each operator link's pace
        self.senders = senders
        self.pacers = pacers
        self.outcomes = outcomes
        self.config = config
        self.composer = composer
        self.metrics = metrics
        self.rng = rng
        self.on_opted_out = on_opted_out

    async def handle(self, entry: Entry) -> None:
        """Claim `entry`, then send it (composed first, if a follow-up) or note why not."""
        claim = await self.outbox.claim(entry, lease_ms=self.config.lease_ms)
        if claim.outcome == "busy":
            return  # a live worker has it; its acknowledgement will end it
        msg = entry.message
        if claim.outcome == "sent":  # sent before a crash; only the record is missing
            self.outcomes.record(
                Outcome(message=msg, status="sent", at=_now(), provider_id=claim.provider_id), entry
            )
            await self.outbox.release_guard(entry)
            return
        release_lease = True
        try:
            if entry.job is not None:
                composed = await self._compose(entry)
                if composed is None:
                    return
                msg = composed
            sender = self.senders.get(msg.channel)
            if sender is None:
                raise SendError("no_sender", retryable=False)
            if self.links is not None and msg.channel is OutChannel.SMS:
                await self.links.acquire(msg)  # the link first: the narrower pace
            await self.pacers[msg.channel].acquire(int(msg.priority))
            # Composing and waiting for a token can outlast the lease: past it another worker
            # may hold the message, so it is sent only while the lease is still ours.
            if not await self.outbox.renew(entry, claim, lease_ms=self.config.lease_ms):
                log.info("outbox_lease_lost")
                release_lease = False  # not ours any more
                return
            receipt = await sender.send(msg)
            release_lease = False  # from here only the mark ends the lease, never a release
            await self._finish(entry, claim, receipt.provider_id)
            count_metric(
                self.metrics,
                "outbox_sent",
                channel=msg.channel.value,
                sender=sender.name,
                kind=msg.kind.value,
            )
            self.outcomes.record(
                Outcome(
                    message=msg,
                    status="sent",
                    at=_now(),
                    sender=sender.name,
                    provider_id=receipt.provider_id,
                    text=msg.text,
                    template=receipt.template,
                ),
                entry,
            )
        except SendError as exc:
            await self._failed(entry, msg, exc)
        except (StoreUnavailable, OSError):
            raise  # the stores: left pending, tried again once they answer
        except Exception as exc:
            # A bug in a sender or in composing must not stop the worker: it is retried
            # like a transient error, so it ends, failed, after max_attempts.
            log.exception("outbox_message_error")
            await self._failed(entry, msg, SendError(f"error:{type(exc).__name__}", retryable=True))
        finally:
            if release_lease:
                await self.outbox.release(entry, claim)

    async def _finish(self, entry: Entry, claim: Claim, provider_id: str) -> None:
        """Mark a sent message, trying a few times: until the mark is written, a Redis blip
        could let the message be reclaimed once the lease ends, and sent again."""
        with anyio.CancelScope(shield=True):
            for pause in (0.05, 0.2, 1.0, None):
                try:
                    await self.outbox.finish(entry, claim, provider_id)
                    return
                except StoreUnavailable:
                    if pause is None:
                        raise
                    await anyio.sleep(pause)

    async def _compose(self, entry: Entry) -> OutMessage | None:
        """The follow-up with its text; None when it was put back or given up."""
        msg = entry.message
        age_s = (_now() - msg.created_at).total_seconds()
        if age_s > self.config.followup_max_age_s or self.composer is None:
            log.info("followup_given_up", age_s=round(age_s))
            count_metric(self.metrics, "outbox_followups", outcome="expired")
            self.outcomes.record(
                Outcome(message=msg, status="failed", at=_now(), error="expired"), entry
            )
            await self.outbox.release_guard(entry)
            return None
        composed = await self.composer.compose(msg, entry.job or {})
        if composed is None:
            # The backend still cannot answer: ask again later, the message stays queued.
            delay = backoff_s(
                entry.tries,
                base=min(self.config.followup_retry_base_s, self.config.followup_retry_cap_s),
                cap=self.config.followup_retry_cap_s,
                rng=self.rng,
            )
            await self.outbox.later(
                entry, msg, due_ms=await self._due(delay), tries=entry.tries + 1, job=entry.job
            )
            count_metric(self.metrics, "outbox_followups", outcome="waiting")
            self.outcomes.record(
                Outcome(message=msg, status="queued", at=_now(), error="backend"), None
            )
            return None
        count_metric(self.metrics, "outbox_followups", outcome="composed")
        return composed

    async def _failed(self, entry: Entry, msg: OutMessage, exc: SendError) -> None:
        attempt = msg.attempt + 1
        if exc.retryable and attempt < self.config.max_attempts:
            delay = backoff_s(
                msg.attempt,
                base=self.config.backoff_base_s,
                cap=self.config.backoff_cap_s,
                rng=self.rng,
            )
            delay = max(delay, exc.retry_after_s or 0.0)
            again = replace(msg, attempt=attempt)
            # A composed follow-up is retried as the SMS it became, not composed again.
            job = entry.job if entry.job is not None and not msg.text else None
            await self.outbox.later(
                entry, again, due_ms=await self._due(delay), tries=entry.tries, job=job
            )
            log.info("outbox_retry", code=exc.code, attempt=attempt, delay_s=round(delay, 2))
            count_metric(self.metrics, "outbox_retries", channel=msg.channel.value)
            self.outcomes.record(
                Outcome(message=again, status="queued", at=_now(), error=exc.code), None
            )
            return
        log.warning("outbox_failed", code=exc.code, attempt=attempt, retryable=exc.retryable)
        sender = self.senders.get(msg.channel)
        count_metric(
            self.metrics,
            "outbox_failed",
            channel=msg.channel.value,
            sender=sender.name if sender is not None else "none",
            kind=msg.kind.value,
        )
        if exc.opted_out and self.on_opted_out is not None:
            try:
                await self.on_opted_out(msg.channel, msg.to)
            except StoreUnavailable as error:  # the provider keeps refusing meanwhile
                log.warning("outbox_opt_out_not_recorded", error=type(error).__name__)
        self.outcomes.record(
            Outcome(
                message=msg,
                status="failed",
                at=_now(),
                error=exc.code,
                text=msg.text,
                template=exc.template,
            ),
            entry,
        )
        await self.outbox.release_guard(entry)

    async def _due(self, delay_s: float) -> int:
        return await self.outbox.server_ms() + int(delay_s * 1000)


def _now() -> datetime:
    return datetime.now(UTC)
