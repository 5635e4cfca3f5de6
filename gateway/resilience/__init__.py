"""Peak-load resilience in front of the Massar backend (issue #5, ARCHITECTURE.md).

    channel -> TurnRunner (rate limit, budget, SMS follow-up through the outbox)
            -> dialogs -> ResilientBackend: cache -> single-flight -> breaker -> slots
            -> MassarClient (the remaining deadline)

One concern per module: `cache`, `singleflight`, `breaker`, `limits`, `backend` (the facade)
with `endpoints` (its table, made from the client), `metrics`; what they keep in Redis
(entries, leases, the breaker's record, the per-phone rate limit) is `gateway.state.resilience`'s.
Slow live turns are answered later through the outbox (`gateway/outbox/`).
Every Redis key carries a hash tag (Redis Cluster) and no phone number or code.
"""

from gateway.resilience.backend import ResilientBackend, begin_turn, unsafe_to_repeat
from gateway.resilience.breaker import Breaker, BreakerConfig, BreakerOpen, BreakerState
from gateway.resilience.cache import DEFAULT_TTLS, Cache, Cached
from gateway.resilience.limits import BackendSlots, Shed, TurnGate
from gateway.resilience.metrics import Metrics
from gateway.resilience.singleflight import SingleFlight

__all__ = [
    "DEFAULT_TTLS",
    "BackendSlots",
    "Breaker",
    "BreakerConfig",
    "BreakerOpen",
    "BreakerState",
    "Cache",
    "Cached",
    "Metrics",
    "ResilientBackend",
    "Shed",
    "SingleFlight",
    "TurnGate",
    "begin_turn",
    "unsafe_to_repeat",
]
