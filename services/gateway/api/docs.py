"""The combined OpenAPI document and its two readers, Swagger UI (``/docs``) and ReDoc (``/redoc``).

Both pages work without the internet: their scripts and styles come from the gateway itself
(``/docs/static/...``), taken from the ``fastapi-offline`` package (Swagger UI and ReDoc as
published on npm) and from ``services/gateway/static`` (our start-up scripts). Each page
is sent with a Content-Security-Policy that lets it load scripts and styles from the gateway
only; nothing inline runs. The page settings travel as a JSON data block, which is not a script.
ReDoc writes ``<style>`` elements from script: those carry the page's nonce (``redoc-nonce.js``,
``redoc-init.js``); ReDoc's "API docs by Redocly" logo, an image on its CDN, is blocked by the
policy and never asked for.
"""

from __future__ import annotations

import html
import json
import secrets
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

router = APIRouter(include_in_schema=False)
TITLE = "Neglect backbone API"
STATIC = "/docs/static"
OPENAPI_URL = "/openapi.json"
SWAGGER_PARAMETERS: dict[str, Any] = {
    "url": OPENAPI_URL, "dom_id": "#swagger-ui", "persistAuthorization": True,
    "displayRequestDuration": True, "deepLinking": True, "showExtensions": True,
    "showCommonExtensions": True, "validatorUrl": None,
}

_VENDOR = Path(str(files("fastapi_offline") / "static"))
_OWN = Path(__file__).resolve().parent.parent / "static"
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (_VENDOR / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (_VENDOR / "swagger-ui.css", "text/css"),
    "redoc.standalone.js": (_VENDOR / "redoc.standalone.js", "text/javascript"),
    "favicon.png": (_VENDOR / "favicon.png", "image/png"),
    "swagger-init.js": (_OWN / "swagger-init.js", "text/javascript"),
    "redoc-nonce.js": (_OWN / "redoc-nonce.js", "text/javascript"),
    "redoc-init.js": (_OWN / "redoc-init.js", "text/javascript"),
}


def content_security_policy(style_nonce: str | None = None) -> str:
    """Scripts, styles, fonts and fetches from the gateway only; images also as data: URLs
    (Swagger UI's icons). ReDoc's search runs in a worker made from a blob: URL."""
    styles = "'self'" + (f" 'nonce-{style_nonce}'" if style_nonce else "")
    return "; ".join([
        "default-src 'none'", "script-src 'self'", f"style-src {styles}", "img-src 'self' data:",
        "font-src 'self'", "connect-src 'self'", "worker-src 'self' blob:", "base-uri 'none'",
        "form-action 'self'", "frame-ancestors 'none'",
    ])


def _page(title: str, body: str, csp: str) -> HTMLResponse:
    document = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<link rel="icon" type="image/png" href="{STATIC}/favicon.png">\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
    return HTMLResponse(document, headers={
        "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
    })


def _data_block(element_id: str, value: dict[str, Any]) -> str:
    # A JSON data block does not run (CSP leaves it alone); "</" cannot close it early.
    text = json.dumps(value).replace("</", "<\\/")
    return f'<script id="{element_id}" type="application/json">{text}</script>'


@router.get("/openapi.json")
async def get_openapi_document(request: Request) -> JSONResponse:
    document: dict[str, Any] = await request.app.state.openapi.document()
    return JSONResponse(document)


@router.get("/docs")
async def get_docs() -> HTMLResponse:
    body = "\n".join([
        f'<link rel="stylesheet" href="{STATIC}/swagger-ui.css">',
        '<div id="swagger-ui"></div>',
        _data_block("swagger-ui-parameters", SWAGGER_PARAMETERS),
        f'<script src="{STATIC}/swagger-ui-bundle.js"></script>',
        f'<script src="{STATIC}/swagger-init.js"></script>',
    ])
    return _page(f"{TITLE} — docs", body, content_security_policy())


@router.get("/redoc")
async def get_redoc() -> HTMLResponse:
    nonce = secrets.token_urlsafe(18)
    body = "\n".join([
        '<div id="redoc"></div>',
        _data_block("redoc-parameters", {"url": OPENAPI_URL, "nonce": nonce}),
        f'<script src="{STATIC}/redoc-nonce.js"></script>',
        f'<script src="{STATIC}/redoc.standalone.js"></script>',
        f'<script src="{STATIC}/redoc-init.js"></script>',
    ])
    return _page(f"{TITLE} — reference", body, content_security_policy(style_nonce=nonce))


@router.get(STATIC + "/{name}")
async def get_docs_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(status_code=404)
    path, media_type = ASSETS[name]
    return FileResponse(path, media_type=media_type, headers={
        "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff",
    })
