"""Whether the caller may see a child: asked of the referral service, as the caller.

The referral service owns children and agency scoping; this service never
copies that rule. Every request touching a child's assessments asks once,
passing the caller's own ``Authorization`` header, so the answer (and the
referral service's audit of it) is the caller's. Anything but a clear answer
stops the request before anything is written.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from services.assessment.domain.errors import ChildCheckRefused, ChildNotFound, ReferralUnavailable
from shared.context import current_request_id, current_traceparent
from shared.db import check_no_transaction, end_read_transaction


class ChildDirectory:
    """One per request: remembers the children it has confirmed, so a request asks once per child."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        timeout: float,
        authorization: str | None,
        purpose: str | None = None,
        session: AsyncSession | None = None,
    ) -> None:
        self.client = client
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.authorization = authorization
        self.purpose = purpose
        self._confirmed: set[uuid.UUID] = set()

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.authorization:
            headers["Authorization"] = self.authorization
        if rid := current_request_id():
            headers["X-Request-ID"] = rid
        if tp := current_traceparent():
            headers["traceparent"] = tp
        if self.purpose:
            headers["X-Purpose"] = self.purpose
        return headers

    async def require_visible(self, child_id: uuid.UUID) -> None:
        """Return when the caller may see the child; raise 404, 403 or 503 otherwise."""
        if child_id in self._confirmed:
            return
        url = f"{self.base_url}/v1/children/{child_id}"
        if self.session is not None:
            await end_read_transaction(self.session)
        check_no_transaction("the referral service")
        try:
            # The overall deadline covers transports that ignore httpx's own timeouts.
            async with asyncio.timeout(self.timeout):
                response = await self.client.get(url, headers=self._headers(), timeout=self.timeout)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise ReferralUnavailable("The referral service did not answer in time; nothing was changed.") from exc
        except Exception as exc:  # down, refused, or an error inside the service: never a guess
            raise ReferralUnavailable("The referral service could not be reached; nothing was changed.") from exc
        if response.status_code == 200:
            self._confirmed.add(child_id)
            return
        if response.status_code == 404:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        if response.status_code == 403:
            raise ChildCheckRefused(
                "The referral service refused to confirm the child: your token also needs the referral:read scope."
            )
        raise ReferralUnavailable(
            f"The referral service answered HTTP {response.status_code}; nothing was changed."
        )
