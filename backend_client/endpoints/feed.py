"""Calls of the alerts' side (guardians by id, the change feed) and of the service itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ..calls import Caller
from ..deadline import Deadline
from ..models import ChangesHead, ChangesPage, ChangeType, GuardianContact, Health, Meta
from ..routes import CHANGES, CHANGES_HEAD, GUARDIANS_BATCH, HEALTH, META

__all__: list[str] = []

GUARDIANS_BATCH_MAX: Final = 500
"""Guardian ids per `guardians_batch` call (the API's own limit)."""


class FeedCalls(Caller):
    """The change feed, guardians by id for alerts, and the service's health and metadata."""

    async def guardians_batch(
        self,
        guardian_ids: Sequence[str],
        *,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> tuple[GuardianContact, ...]:
        """`POST /guardians/batch`: up to 500 guardians with their registered phones, in
        the order asked (unknown ids are left out). A pure read, so it is retried."""
        if not 0 < len(guardian_ids) <= GUARDIANS_BATCH_MAX:
            raise ValueError(f"between 1 and {GUARDIANS_BATCH_MAX} guardian ids per call")
        page = await self._call(
            GUARDIANS_BATCH,
            json={"ids": list(guardian_ids)},
            deadline=deadline,
            request_id=request_id,
        )
        return page.items

    async def changes(
        self,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        types: Sequence[ChangeType] | None = None,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> ChangesPage:
        """`GET /changes`: events after `cursor`; `CursorExpired` means resync from the head."""
        params: dict[str, str] = {}
        if cursor is not None:
            params["cursor"] = cursor
        if limit is not None:
            params["limit"] = str(limit)
        if types:
            params["types"] = ",".join(str(t) for t in types)
        return await self._call(
            CHANGES,
            params=params,
            deadline=deadline,
            request_id=request_id,
        )

    async def changes_head(
        self, *, deadline: Deadline | float | None = None, request_id: str | None = None
    ) -> ChangesHead:
        """`GET /changes/head`: the current cursor, to start from or to resync after a 410."""
        return await self._call(
            CHANGES_HEAD,
            deadline=deadline,
            request_id=request_id,
        )

    async def health(
        self, *, deadline: Deadline | float | None = None, request_id: str | None = None
    ) -> Health:
        """`GET /health`: liveness."""
        return await self._call(HEALTH, deadline=deadline, request_id=request_id)

    async def meta(
        self, *, deadline: Deadline | float | None = None, request_id: str | None = None
    ) -> Meta:
        """`GET /meta`: the current school year and semester, and the sandbox clock."""
        return await self._call(META, deadline=deadline, request_id=request_id)
