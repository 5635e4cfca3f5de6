"""The resilient facade's table of the client's calls, made from `backend_client.Endpoints`.

One `Endpoint` per public coroutine method of the client: its signature (to bind a caller's
arguments exactly as the client would), and from `backend_client.policy` how it is protected:
a cached read (`cache`: its kind, TTL and key, `adapter`: how its answer is stored), a call sent
once (`once`), or else an uncached read. Nothing here is written per endpoint: a method added to
the client is in the table.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, get_type_hints

import pydantic

from backend_client import CACHED, SENT_ONCE, CachePolicy, Endpoints

__all__ = ["CACHE_TTLS", "ENDPOINTS", "PLUMBING", "Endpoint"]

PLUMBING: Final = frozenset({"deadline", "request_id"})
"""Parameters of every call that shape how it is sent, never what it answers."""

_PLAIN = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _opt(value: object) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One call of the client as the facade serves it."""

    name: str
    signature: inspect.Signature
    """The client method's, without `self`."""
    cache: CachePolicy | None
    adapter: pydantic.TypeAdapter[Any] | None
    """Reads and writes the cached answer (one per endpoint: the cache knows it by identity)."""
    key: tuple[str, ...]
    """The parameters the cache key is made of, in order (empty when not cached)."""
    once: bool
    # Made from `signature` once, so that a call binds its arguments without inspecting it.
    _positional: tuple[str, ...] = ()
    _names: frozenset[str] = frozenset()
    _required: frozenset[str] = frozenset()
    _defaults: Mapping[str, object] = field(default_factory=dict)
    _extras: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, name: str, method: Any) -> Endpoint:
        signature = inspect.signature(method)
        params = list(signature.parameters.values())[1:]  # without `self`
        signature = signature.replace(parameters=params)
        names = [p.name for p in params]
        if "deadline" not in names or any(p.kind not in _PLAIN for p in params):
            raise TypeError(f"{name}: a call takes named parameters and a `deadline`")
        cache = CACHED.get(name)
        once = name in SENT_ONCE
        key: tuple[str, ...] = ()
        adapter = None
        if cache is not None:
            if once:
                raise TypeError(f"{name}: a call sent once is never cached")
            key = (
                cache.key if cache.key is not None else tuple(n for n in names if n not in PLUMBING)
            )
            if unknown := (set(key) - set(names)) | (set(key) & PLUMBING):
                raise TypeError(f"{name}: no such parameter for the cache key: {sorted(unknown)}")
            adapter = pydantic.TypeAdapter(get_type_hints(method)["return"])
        empty = inspect.Parameter.empty
        return cls(
            name,
            signature,
            cache,
            adapter,
            key,
            once,
            _positional=tuple(p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD),
            _names=frozenset(names),
            _required=frozenset(p.name for p in params if p.default is empty),
            _defaults={p.name: p.default for p in params if p.default is not empty},
            _extras=tuple(
                (p.name, p.default) for p in params if p.name not in PLUMBING and p.name not in key
            ),
        )

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The arguments of a call by name, as the client's method would bind them (those
        left to their defaults are absent); a wrong call raises `TypeError` as it would."""
        bound = dict(zip(self._positional, args, strict=False))
        if (
            len(args) <= len(self._positional)
            and bound.keys().isdisjoint(kwargs)
            and kwargs.keys() <= self._names
        ):
            bound.update(kwargs)
            if self._required <= bound.keys():
                return bound
        return self.signature.bind(*args, **kwargs).arguments  # a wrong call: its TypeError

    def key_args(self, arguments: Mapping[str, object]) -> list[str]:
        """The cache key's arguments: the policy's parameters in order (None as ""), then any
        other parameter given a value other than its default, as ``name=value``."""
        args = [_opt(arguments.get(name, self._defaults.get(name))) for name in self.key]
        for name, default in self._extras:
            if name in arguments and (value := arguments[name]) != default:
                args.append(f"{name}={_opt(value)}")
        return args


def _endpoints() -> dict[str, Endpoint]:
    found = {
        name: Endpoint.of(name, method)
        for name, method in inspect.getmembers(Endpoints, inspect.iscoroutinefunction)
        if not name.startswith("_")
    }
    if stray := (set(CACHED) | SENT_ONCE) - set(found):
        raise TypeError(f"backend_client.policy names no call of the client: {sorted(stray)}")
    return found


ENDPOINTS: Final[Mapping[str, Endpoint]] = _endpoints()
"""Every call of `backend_client.Endpoints` by method name."""

CACHE_TTLS: Final[Mapping[str, int]] = {p.kind: p.ttl_s for p in CACHED.values()}
"""Each cached kind's fresh TTL from the policy; the settings' TTLs go over it."""
