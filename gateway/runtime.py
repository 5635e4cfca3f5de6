"""Builds the gateway's working parts from its settings: the app's lifespan and the sender
worker (`python -m gateway worker`) share them, so a worker composes follow-ups with the same
backend protections, bindings and catalogs as the app."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

import anyio
import anyio.to_thread
import httpx
import structlog

from backend_client import MassarClient
from gateway.alerts.consumer import AlertsConfig, AlertsConsumer
from gateway.alerts.quiet import QuietHours
from gateway.alerts.weekly import Weekly
from gateway.channels.twilio_sms import SMS_PROFILE
from gateway.console.parts import TOTP_FAILURES, TOTP_WINDOW_S, ConsoleParts
from gateway.dialogs.model import AlertTimes
from gateway.outbox.model import OutChannel
from gateway.outbox.paces import channel_pacers, link_pacers
from gateway.outbox.queue import Outbox
from gateway.outbox.senders import build_senders
from gateway.outbox.senders.base import Sender
from gateway.outbox.worker import OutboxWorker
from gateway.outbox.worker_config import WorkerConfig
from gateway.resilience import (
    BackendSlots,
    Breaker,
    BreakerConfig,
    Cache,
    Metrics,
    ResilientBackend,
    SingleFlight,
    TurnGate,
)
from gateway.resilience.endpoints import CACHE_TTLS
from gateway.settings import Settings
from gateway.state.alerts.lease import Lease
from gateway.state.alerts.preferences import SqlPreferences
from gateway.state.alerts.store import AlertStore
from gateway.state.bindings import SqlBindings
from gateway.state.connections import Database, RedisClient, open_database, open_redis, warm_up
from gateway.state.console.audit import AuditLog
from gateway.state.console.operators import OperatorStore
from gateway.state.console.sessions import CheckCounter, ConsoleSessions, SigninGate
from gateway.state.errors import StoreUnavailable
from gateway.state.helpdesk import HelpdeskQueue
from gateway.state.identity import checked_keyring
from gateway.state.keyring import KeyRing
from gateway.state.keys import Keys
from gateway.state.langs import LanguageMemo
from gateway.state.lockout import RedisLockout
from gateway.state.outbox.records import MessageRecords
from gateway.state.resilience.limits import RateLimiter
from gateway.state.store import SessionStore
from gateway.state.telegram_links import TelegramLinks
from gateway.state.unmatched import UnmatchedLog
from gateway.turns.composer import FollowUpComposer, FollowUpConfig
from gateway.turns.followups import FollowUps
from gateway.turns.ports import DialogPorts, Observers, TurnState
from gateway.turns.turn import TurnRunner

log = structlog.get_logger("gateway")


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendParts:
    """The Massar backend, three ways."""

    client: MassarClient  # unprotected: /readyz's health check, the alerts' change feed
    resilient: ResilientBackend  # behind the cache, single-flight, breaker and slots: turns
    breaker: Breaker  # its state, for /readyz and the dashboard


@dataclass(frozen=True, slots=True, kw_only=True)
class Runtime:
    """Every part the app and the workers work with; routes reach it through
    `gateway.deps.runtime(request)`."""

    settings: Settings
    redis: RedisClient
    redis_kind: str
    db: Database
    http: httpx.AsyncClient
    backend: BackendParts
    sessions: SessionStore
    metrics: Metrics
    outbox: Outbox
    records: MessageRecords
    senders: dict[OutChannel, Sender]
    turns: TurnRunner
    bindings: SqlBindings  # the turns' (`turns.dialog`), and the console's revoking
    lockout: RedisLockout  # the turns', and the console's view and clearing of it
    preferences: SqlPreferences  # alerts (issue 15): opt-outs, languages, channels
    telegram_links: TelegramLinks  # issue #9: the phone each Telegram chat proved
    helpdesk: HelpdeskQueue  # the console's queue (issue #16)
    console: ConsoleParts  # the console's stores and memory (issue #16)
    keyring: KeyRing  # the identity keys, checked against the database's registry

    def worker(self, *, consumer: str | None = None, **overrides: object) -> OutboxWorker:
        """A sender worker over this runtime's outbox (`overrides`: `WorkerConfig` fields)."""
        settings = self.settings
        config = WorkerConfig(
            consumer=consumer or f"{socket.gethostname()}-{os.getpid()}",
            concurrency=settings.outbox_concurrency,
            max_attempts=settings.outbox_max_attempts,
            followup_max_age_s=settings.followup_max_age_s,
            followup_retry_cap_s=settings.followup_retry_cap_s,
            lease_ms=int(settings.outbox_lease_s * 1000),
            reclaim_idle_ms=int(settings.outbox_reclaim_idle_s * 1000),
            reclaim_every_s=min(5.0, settings.outbox_reclaim_idle_s / 2),
            **overrides,  # type: ignore[arg-type]
        )
        return OutboxWorker(
            self.outbox,
            senders=self.senders,
            pacers=channel_pacers(settings, self.redis, self.outbox.keys),
            links=link_pacers(settings, self.redis, self.outbox.keys, self.senders),
            records=self.records,
            config=config,
            composer=self.turns.follow_ups.composer if self.turns.follow_ups else None,
            metrics=self.metrics,
            on_opted_out=self._opted_out,
        )

    def alerts(self) -> AlertsConsumer:
        """The change-feed consumer (issue 15) over this runtime's backend and outbox."""
        settings = self.settings
        return AlertsConsumer(
            feed=self.backend.client,
            outbox=self.outbox,
            preferences=self.preferences,
            store=AlertStore(self.db, key_secret=self.keyring),
            lease=Lease(
                self.redis, Keys.alerts_lease(self.outbox.keys.ns), ttl_s=settings.alerts_lease_s
            ),
            quiet=QuietHours.parse(settings.quiet_hours),
            cache=self.backend.resilient.cache,
            config=AlertsConfig(
                batch=settings.alerts_batch,
                poll_s=settings.alerts_poll_s,
                digest_at=settings.alerts_digest_at,
                weekly=Weekly.parse(settings.alerts_weekly_at),
            ),
            metrics=self.metrics,
        )

    async def _opted_out(self, channel: OutChannel, address: str) -> None:
        """A provider said `address` opted out (Twilio 21610, a Telegram bot the user blocked):
        no alert goes to its phone again (issue 15). A chat is its phone's only once it shared
        its contact; a chat that never did has no alerts to stop."""
        phone: str | None = address.removeprefix("whatsapp:")
        if channel is OutChannel.TELEGRAM:
            chat = address.removeprefix("telegram:")
            phone = (
                await self.telegram_links.phone(int(chat)) if chat.lstrip("-").isdigit() else None
            )
        if phone:
            await self.preferences.opt_out(phone)


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    backend_transport: httpx.AsyncBaseTransport | None = None,
    provider_transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Runtime]:
    """Every part, opened; closed again on exit (tests pass transports for the backend and
    the providers). Raises `SchemaOutdated` on a database `python -m gateway migrate` has not
    brought to the newest revision, `KeyMismatch` on identity keys it was not hashed with."""
    engine = open_database(settings.database_url)
    try:
        # `migrate` (or `serve`, before its workers) made the tables; a worker never does.
        key = await anyio.to_thread.run_sync(checked_keyring, engine, settings.identity_keys())
        redis, redis_kind = open_redis(settings.redis_url, timeout_s=settings.redis_timeout_s)
    except BaseException:
        engine.dispose()
        raise
    try:
        await warm_up(redis)
    except StoreUnavailable as exc:  # /readyz reports it; turns answer "busy" until it is back
        log.warning("redis_warm_up_failed", error=type(exc).__name__)
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.backend_timeout_s),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        transport=backend_transport,
    )
    # Providers are called on a client of their own: the backend's pool is for Massar.
    provider_http = httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=3.0), transport=provider_transport
    )
    senders: dict[OutChannel, Sender] = {}
    try:
        backend = MassarClient(
            settings.backend_url, settings.backend_token.get_secret_value(), http=http
        )
        sessions = SessionStore(redis, key_secret=key)
        metrics = Metrics()
        breaker = Breaker(
            redis,
            # One breaker per deployment and backend, shared by all of its workers.
            name=Keys(key).digest(settings.backend_url, label="breaker\0")[:12],
            config=BreakerConfig(
                failures=settings.breaker_failures,
                window_s=settings.breaker_window_s,
                cooldown_s=settings.breaker_cooldown_s,
                probes=settings.breaker_probes,
            ),
            on_state=metrics.breaker_state.set,
        )
        cache = Cache(
            redis,
            key_secret=key,
            ttls={**CACHE_TTLS, **settings.cache_ttls},  # a kind without a setting: the policy's
            stale_s=settings.cache_stale_s,
        )
        protected = partial(
            ResilientBackend,
            cache=cache,
            singleflight=SingleFlight(
                redis,
                lease_s=settings.singleflight_lease_s,
                on_join=metrics.singleflight_joins.inc,
            ),
            breaker=breaker,
            slots=BackendSlots(settings.backend_max_concurrency),
            metrics=metrics,
        )
        resilient = protected(backend)
        # Nobody waits on the line for a follow-up: its calls may take longer per attempt,
        # behind the same cache, single-flight, breaker and slots.
        patient = protected(
            MassarClient(
                settings.backend_url,
                settings.backend_token.get_secret_value(),
                http=http,
                timeout=httpx.Timeout(settings.followup_backend_timeout_s),
            )
        )
        outbox = Outbox(redis, key_secret=key.root)  # the first key's, for good: see docs
        # Bulk producers (the alerts consumer) wait while the bulk backlog is deep.
        outbox.gated(
            high=settings.outbox_high_water, low=settings.outbox_low_water, metrics=metrics
        )
        weekly = Weekly.parse(settings.alerts_weekly_at)
        times = AlertTimes(
            daily=settings.alerts_digest_at, weekday=weekly.weekday, weekly=weekly.at
        )
        preferences = SqlPreferences(engine, key_secret=key, times=times)
        # The console's helpdesk queue: what nobody understood, for an agent to answer.
        helpdesk = HelpdeskQueue(
            redis,
            key_secret=key,
            send=outbox.reply,
            expiry_s=settings.helpdesk_expiry_s,
            hotline=settings.leaflet_hotline,
            closed_keep_s=settings.helpdesk_closed_keep_s,
        )
        state = TurnState(
            sessions=sessions,
            rate_limit=RateLimiter(
                redis, key_secret=key, limit=settings.rate_limit_per_minute, window_s=60.0
            ),
            guardian_cache=cache,
            languages=LanguageMemo(redis, sessions.keys),  # issue 24: no SQL read per dial
        )
        bindings = SqlBindings(engine, key_secret=key)
        lockout = RedisLockout(redis, key_secret=key)
        dialog = DialogPorts(
            backend=resilient, bindings=bindings, lockout=lockout, preferences=preferences
        )
        follow_up = FollowUpConfig(
            outbox=outbox,
            backend=patient,
            profile=SMS_PROFILE,
            budget_s=settings.followup_budget_s,
            max_age_s=settings.followup_max_age_s,
        )
        turns = TurnRunner(
            state=state,
            dialog=dialog,
            observers=Observers(
                metrics=metrics,
                unmatched=UnmatchedLog(
                    redis,
                    retention_s=settings.unmatched_retention_days * 86400,
                    metrics=metrics,
                    handover=helpdesk,
                ),
            ),
            gate=TurnGate(settings.max_turns_in_flight),
            follow_ups=FollowUps(
                config=follow_up,
                sessions=sessions,
                composer=FollowUpComposer(
                    config=follow_up, dialog=dialog, sessions=sessions, languages=state.languages
                ),
                metrics=metrics,
            ),
        )
        senders = build_senders(settings, redis=redis, outbox=outbox, http=provider_http)
        yield Runtime(
            settings=settings,
            redis=redis,
            redis_kind=redis_kind,
            db=engine,
            http=http,
            backend=BackendParts(client=backend, resilient=resilient, breaker=breaker),
            sessions=sessions,
            metrics=metrics,
            outbox=outbox,
            records=MessageRecords(
                engine, key_secret=key, retention_h=settings.message_body_retention_h
            ),
            senders=senders,
            turns=turns,
            bindings=bindings,
            lockout=lockout,
            preferences=preferences,
            telegram_links=TelegramLinks(engine, key_secret=key),
            helpdesk=helpdesk,
            console=console_parts(settings, redis, engine, key),
            keyring=key,
        )
    finally:
        with anyio.CancelScope(shield=True):
            for sender in senders.values():
                await sender.aclose()
            await provider_http.aclose()
            await http.aclose()
            await redis.aclose()
            engine.dispose()


def console_parts(
    settings: Settings, redis: RedisClient, engine: Database, key: KeyRing
) -> ConsoleParts:
    """The console's stores, built with the rest (a console route builds nothing). The
    sign-in and check counters stay under the first key: a rotation lifts no lock."""
    return ConsoleParts(
        audit=AuditLog(
            engine,
            redis,
            anonymous_per_minute=settings.console_audit_anonymous_per_minute,
            key_secret=key.root,
        ),
        sessions=ConsoleSessions(
            redis,
            key_secret=key,
            idle_s=settings.console_idle_timeout_s,
            max_s=settings.console_session_max_s,
        ),
        signin_gate=SigninGate(
            redis,
            key_secret=key.root,
            limit=settings.console_signin_failures,
            address_limit=settings.console_signin_address_failures,
            lock_s=settings.console_signin_lock_s,
            slow_after=settings.console_signin_name_slow_after,
            interval_s=settings.console_signin_name_interval_s,
        ),
        checks=CheckCounter(
            redis,
            key_secret=key.root,
            limit=settings.console_check_failures,
            window_s=settings.console_check_lock_s,
        ),
        totp_checks=CheckCounter(
            redis, key_secret=key.root, limit=TOTP_FAILURES, window_s=TOTP_WINDOW_S, what="totp"
        ),
        operators=OperatorStore(engine, key_secret=key),
    )
