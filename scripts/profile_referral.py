"""Profile the referral service's GET child and POST child paths in-process with pyinstrument.

    python scripts/profile_referral.py [--requests 500] [--html out.html]

A fresh PostgreSQL database (dropped afterwards), the referral app called through
httpx's ASGI transport (no sockets, no server), one agency and child; then the requests are
made one after another under the profiler. The client's own frames show too; read the
subtree under the app. For a running server under load, use py-spy instead:
``py-spy record -o referral.svg --pid <uvicorn pid>`` while `make bench` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from pyinstrument import Profiler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench import AUDIENCE, ISSUER, drop_db, make_db  # noqa: E402

from services.referral.app import create_app  # noqa: E402
from services.referral.settings import ReferralSettings  # noqa: E402
from shared.migrate import upgrade  # noqa: E402
from shared.tokens import load_or_create_signer  # noqa: E402


async def main(requests: int, html: str | None) -> None:
    name = f"profile_referral_{uuid.uuid4().hex[:8]}"
    url = await make_db(name)
    try:
        await asyncio.to_thread(upgrade, "referral", url)
        with tempfile.TemporaryDirectory() as tmp:
            signer = load_or_create_signer(Path(tmp))
        settings = ReferralSettings(database_url=url, jwks_json=json.dumps(signer.jwks()), token_issuer=ISSUER,
                                    token_audience=AUDIENCE, environment="test", webhook_secret="profile-" + name,
                                    relay_enabled=False, log_level="WARNING",
                                    outbox_subscribers=["http://reporting/v1/events"])
        app = create_app(settings)

        def auth(agency: uuid.UUID, *scopes: str) -> dict[str, str]:
            token = signer.issue(issuer=ISSUER, audience=AUDIENCE, subject="profile", agency_id=agency,
                                 scopes=scopes, ttl_seconds=3600)
            return {"Authorization": f"Bearer {token}"}

        body = {"given_name": "Profile", "family_name": "Child", "birth_date": "2018-01-01", "gender": "1"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://referral") as client:
            r = await client.post("/v1/agencies", headers=auth(uuid.uuid4(), "admin"),
                                  json={"name": "Profile agency", "agency_type": "school"})
            agency = uuid.UUID(r.json()["id"])
            read, write = auth(agency, "referral:read"), auth(agency, "referral:write")
            child = (await client.post("/v1/children", headers=write, json=body)).json()["id"]
            for _ in range(20):  # warm up caches and the pool
                await client.get(f"/v1/children/{child}", headers=read)
            async def get_child() -> httpx.Response:
                return await client.get(f"/v1/children/{child}", headers=read)

            async def post_child() -> httpx.Response:
                return await client.post("/v1/children", headers=write, json=body)

            calls: list[tuple[str, Callable[[], Awaitable[httpx.Response]]]] = [("GET child", get_child),
                                                                                ("POST child", post_child)]
            for label, call in calls:
                profiler = Profiler(interval=0.0005, async_mode="enabled")
                with profiler:
                    for _ in range(requests):
                        (await call()).raise_for_status()
                print(f"===== {label}: {requests} requests")
                print(profiler.output_text(unicode=True, color=False, show_all=False))
                if html:
                    Path(html.replace(".html", f"-{label.replace(' ', '-').lower()}.html")).write_text(profiler.output_html())  # noqa: ASYNC240
        await app.state.db.dispose()
    finally:
        await drop_db(name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--html", help="also write pyinstrument's HTML reports (one per path) next to this name")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.html))
