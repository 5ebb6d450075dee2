"""The partnership dashboard: static files the gateway serves under ``/dashboard/``.

The page and its script and styles are in ``services/gateway/dashboard/``; its one library,
Chart.js, comes from the npm registry at build time (``make assets``: ``npm ci`` from the
committed lock file) into ``services/gateway/dashboard/node_modules`` and is served from there:
nothing from a CDN. The page runs no inline script (a strict Content-Security-Policy); it reads
the reporting service's figures through the gateway's ``/v1`` with a token from the dashboard's
sign-in (``api/login.py``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from shared.errors import NotFound

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).resolve().parent.parent / "dashboard"
CHART_JS = HERE / "node_modules" / "chart.js" / "dist" / "chart.umd.js"
FILES: dict[str, tuple[Path, str]] = {
    "dashboard.js": (HERE / "dashboard.js", "text/javascript"),
    "dashboard.css": (HERE / "dashboard.css", "text/css"),
    "chart.umd.js": (CHART_JS, "text/javascript"),
}
CSP = "; ".join([
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
    "connect-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
])
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


class AssetsMissing(NotFound):
    slug, title = "dashboard-assets-missing", "The dashboard's chart library is not installed (run make assets)"


@router.get("/dashboard")
async def get_dashboard_root() -> RedirectResponse:
    return RedirectResponse("/dashboard/", status_code=308)


@router.get("/dashboard/")
async def get_dashboard() -> FileResponse:
    return FileResponse(HERE / "index.html", media_type="text/html",
                        headers={**HEADERS, "Content-Security-Policy": CSP, "Cache-Control": "no-store"})


@router.get("/dashboard/{name}")
async def get_dashboard_file(name: str) -> FileResponse:
    if name not in FILES:
        raise NotFound("No such dashboard file.")
    path, media_type = FILES[name]
    if not path.exists():
        raise AssetsMissing("Run `make assets` (npm ci in services/gateway/dashboard) to install Chart.js.")
    return FileResponse(path, media_type=media_type, headers={**HEADERS, "Cache-Control": "public, max-age=300"})

