"""Peak-load and outage simulation in front of `/api/v1` (DOMAIN §8).

Order of effects per request: down switch (with flapping), client throttling, forced outcome
(`X-Sandbox-Force`, test deployments only), injected errors, hangs, then latency. All draws come
from one RNG seeded by `SANDBOX_CHAOS_SEED`, so a given request sequence gets the same outcomes.
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from statistics import NormalDist

from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.problems import MEDIA_TYPE, problem_body
from sandbox.settings import SandboxSettings

_NORMAL = NormalDist()
Z99 = _NORMAL.inv_cdf(0.99)


@dataclass(slots=True)
class ChaosConfig:
    profile: str = "off"
    latency_median_ms: float = 0.0
    latency_p99_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_mix: str = "503:0.6,500:0.2,504:0.2"
    hang_rate: float = 0.0
    hang_seconds: float = 60.0
    down: bool = False
    flap: float = 0.0
    rate_limit_rps: float = 0.0
    auto_peaks: bool = False


PROFILES: dict[str, dict[str, float | bool]] = {
    "off": {
        "latency_median_ms": 0,
        "latency_p99_ms": 0,
        "error_rate": 0,
        "hang_rate": 0,
        "down": False,
    },
    "normal": {
        "latency_median_ms": 120,
        "latency_p99_ms": 1500,
        "error_rate": 0.001,
        "hang_rate": 0,
        "down": False,
    },
    "rentree": {
        "latency_median_ms": 3000,
        "latency_p99_ms": 30000,
        "error_rate": 0.15,
        "hang_rate": 0.05,
        "down": False,
    },
    "grade_deadline": {
        "latency_median_ms": 1500,
        "latency_p99_ms": 15000,
        "error_rate": 0.08,
        "hang_rate": 0.02,
        "down": False,
    },
    "outage": {
        "latency_median_ms": 0,
        "latency_p99_ms": 0,
        "error_rate": 0,
        "hang_rate": 0,
        "down": True,
    },
}

_CODES = {
    500: "internal",
    502: "service-unavailable",
    503: "service-unavailable",
    504: "upstream-timeout",
}


def with_profile(config: ChaosConfig, profile: str) -> ChaosConfig:
    values = PROFILES[profile]
    return replace(config, profile=profile, **values)  # type: ignore[arg-type]


def from_settings(settings: SandboxSettings) -> ChaosConfig:
    config = ChaosConfig(
        profile="off",
        latency_median_ms=settings.latency_median_ms,
        latency_p99_ms=settings.latency_p99_ms,
        latency_jitter_ms=settings.latency_jitter_ms,
        error_rate=settings.error_rate,
        error_mix=settings.error_mix,
        hang_rate=settings.hang_rate,
        hang_seconds=settings.hang_seconds,
        down=settings.down,
        flap=settings.flap,
        rate_limit_rps=settings.rate_limit_rps,
        auto_peaks=settings.auto_peaks,
    )
    if settings.profile != "off":
        config = with_profile(config, settings.profile)
    return config


def peak_profile(now: datetime) -> str:
    """The profile for a sandbox date: rentrée 1–20 Sept, grade deadlines end of Jan/June."""
    if now.month == 9 and now.day <= 20:
        return "rentree"
    if now.month in (1, 6) and now.day >= (22 if now.month == 1 else 21):
        return "grade_deadline"
    return "normal"


def parse_mix(mix: str) -> list[tuple[int, float]]:
    out = []
    for part in mix.split(","):
        status, _, weight = part.strip().partition(":")
        out.append((int(status), float(weight)))
    return out


class Chaos:
    """The live chaos configuration and its RNG (shared by all requests)."""

    def __init__(self, settings: SandboxSettings, clock: Callable[[], datetime]) -> None:
        self.config = from_settings(settings)
        self.clock = clock
        self.rng = random.Random(settings.chaos_seed)
        self.lock = threading.Lock()
        self.changed_at = time.monotonic()
        self.buckets: dict[str, tuple[float, float]] = {}

    def update(self, config: ChaosConfig) -> None:
        with self.lock:
            self.config = config
            self.changed_at = time.monotonic()
            self.buckets.clear()

    def effective(self) -> ChaosConfig:
        config = self.config
        if config.auto_peaks and config.profile in ("off", "normal"):
            peak = peak_profile(self.clock())
            config = with_profile(config, peak)
            config.profile = "auto:" + peak
        return config

    def state(self) -> dict[str, object]:
        out = asdict(self.config)
        out["effective_profile"] = self.effective().profile
        return out

    def is_down(self, config: ChaosConfig) -> bool:
        if not config.down:
            return False
        if config.flap <= 0:
            return True
        return int((time.monotonic() - self.changed_at) // config.flap) % 2 == 0

    def throttled(self, config: ChaosConfig, client: str) -> bool:
        rate = config.rate_limit_rps
        if rate <= 0:
            return False
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(client, (rate, now))
            tokens = min(rate, tokens + (now - last) * rate)
            if tokens < 1:
                self.buckets[client] = (tokens, now)
                return True
            self.buckets[client] = (tokens - 1, now)
            return False

    def draw(self, config: ChaosConfig) -> tuple[int | None, bool, float]:
        """(injected error status or None, hang?, latency in seconds) for one request."""
        with self.lock:
            r_err, r_hang, r_lat, r_mix, r_jit = (self.rng.random() for _ in range(5))
        status = None
        if r_err < config.error_rate:
            mix = parse_mix(config.error_mix)
            total = sum(w for _, w in mix) or 1.0
            acc = 0.0
            status = mix[-1][0]
            for code, weight in mix:
                acc += weight / total
                if r_mix < acc:
                    status = code
                    break
        hang = r_hang < config.hang_rate
        latency = 0.0
        if config.latency_median_ms > 0:
            mu = math.log(config.latency_median_ms)
            p99 = max(config.latency_p99_ms, config.latency_median_ms)
            sigma = (math.log(p99) - mu) / Z99
            z = _inverse_normal(min(max(r_lat, 1e-12), 1 - 1e-12))
            latency = math.exp(mu + sigma * z) / 1000
        latency += r_jit * config.latency_jitter_ms / 1000
        return status, hang, latency


def _inverse_normal(p: float) -> float:
    """Standard normal quantile, so one uniform draw gives one latency."""
    return _NORMAL.inv_cdf(p)


class ChaosMiddleware:
    """Raw ASGI middleware applying the chaos configuration to `/api/v1` requests."""

    def __init__(self, app: ASGIApp, chaos: Chaos, settings: SandboxSettings) -> None:
        self.app = app
        self.chaos = chaos
        self.force_enabled = settings.force_header_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith("/api/v1/")
            or scope["path"] == "/api/v1/health"
        ):
            await self.app(scope, receive, send)
            return
        chaos = self.chaos
        config = chaos.effective()
        force = None
        if self.force_enabled:
            for name, value in scope["headers"]:
                if name == b"x-sandbox-force":
                    force = value.decode("latin-1").strip().lower()
        if chaos.is_down(config) or force == "503":
            await _problem(
                scope, send, 503, "service-unavailable", "The service is temporarily down.", "300"
            )
            return
        client = _client_key(scope)
        if chaos.throttled(config, client):
            await _problem(
                scope, send, 429, "rate-limited", "Too many requests from this client.", "1"
            )
            return
        if force == "timeout":
            await asyncio.sleep(config.hang_seconds)
            await _problem(
                scope, send, 504, "upstream-timeout", "The backend did not answer in time.", None
            )
            return
        if force and force.startswith("latency="):
            try:
                delay = float(force.partition("=")[2]) / 1000
            except ValueError:
                delay = 0.0
            await asyncio.sleep(min(max(delay, 0.0), 120.0))
            await self.app(scope, receive, send)
            return
        status, hang, latency = chaos.draw(config)
        if hang:
            await asyncio.sleep(config.hang_seconds)
            await _problem(
                scope, send, 504, "upstream-timeout", "The backend did not answer in time.", None
            )
            return
        if latency > 0:
            await asyncio.sleep(latency)
        if status is not None:
            retry = "30" if status in (429, 503) else None
            code = _CODES.get(status, "rate-limited" if status == 429 else "internal")
            await _problem(scope, send, status, code, "Injected failure (sandbox chaos).", retry)
            return
        await self.app(scope, receive, send)


def _client_key(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1")[-16:]
    client = scope.get("client")
    return str(client[0]) if client else "anonymous"


async def _problem(
    scope: Scope, send: Send, status: int, code: str, detail: str, retry_after: str | None
) -> None:
    request_id = str(scope.get("state", {}).get("request_id", "req_unknown"))
    body = problem_body(status, code, detail, scope["path"], request_id)
    headers = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    if retry_after:
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
