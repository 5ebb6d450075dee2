from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

router = APIRouter(include_in_schema=False)
TITLE = "Neglect backbone API"


@router.get("/openapi.json")
async def get_openapi_document(request: Request) -> JSONResponse:
    document: dict[str, Any] = await request.app.state.openapi.document()
    return JSONResponse(document)


@router.get("/docs")
async def get_docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title=f"{TITLE} — docs",
        swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
    )


@router.get("/redoc")
async def get_redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title=f"{TITLE} — reference")
