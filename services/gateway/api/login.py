"""The dashboard's sign-in at the gateway (settings: ``services/gateway/login_settings.py``).

- ``GET /oauth/authorize``: the development login (``make run``): a page to pick a demo user;
  ``POST /oauth/authorize`` signs them in and redirects to the dashboard with a single-use code.
- ``POST /oauth/token`` with ``grant_type=authorization_code`` (the dashboard's code and PKCE
  verifier) or with the RFC 8693 token-exchange grant (an ID token from the partnership's identity
  provider): either answers with a gateway token carrying the dashboard's read-only scopes.
  ``api/oauth.py`` hands these two grants to :func:`public_grant`.
"""

from __future__ import annotations

import html
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from services.gateway.api.deps import only
from services.gateway.domain.clients import IssuedToken, TokenIssuer
from services.gateway.domain.errors import InvalidTokenRequest, UnsupportedGrantType
from services.gateway.domain.login import (
    AUTHORIZATION_CODE,
    TOKEN_EXCHANGE,
    AuthorizationRequest,
    Codes,
    InvalidAuthorizationRequest,
    LoginUnavailable,
    check_authorization_request,
)
from services.gateway.domain.oidc import IdTokenVerifier
from services.gateway.queries_login import CodeQueries
from services.gateway.settings import GatewaySettings
from shared.db import SessionDep

router = APIRouter(tags=["oauth"])
PUBLIC_GRANTS = (AUTHORIZATION_CODE, TOKEN_EXCHANGE)
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 - a URN, not a secret
_MAX_FIELDS = 12
# The login page: a form and the gateway's own style sheet; no script at all.
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'")


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


def redirect_uris(request: Request) -> list[str]:
    """Where the dashboard's codes may go: as configured, or the dashboard on this origin."""
    configured = _settings(request).dashboard_redirect_uris
    return list(configured) if configured else [str(request.base_url).rstrip("/") + "/dashboard/"]


def _check(request: Request, params: dict[str, str]) -> AuthorizationRequest:
    settings = _settings(request)
    if not settings.dev_login_users:
        raise LoginUnavailable("The development login is off: sign in through the partnership's identity provider.")
    return check_authorization_request(params, client_id=settings.dashboard_client_id,
                                       redirect_uris=redirect_uris(request), scopes=settings.dashboard_scopes)


def codes(request: Request, session: SessionDep) -> Codes:
    return Codes(CodeQueries(session), _settings(request).authorization_code_ttl_seconds)


CodesDep = Annotated[Codes, Depends(codes)]


def _login_page(request: Request, params: dict[str, str]) -> HTMLResponse:
    users = _settings(request).dev_login_users
    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in params.items() if k != "user")
    choices = "".join(
        f'<div class="choice"><input type="radio" name="user" id="user-{i}" value="{html.escape(u.id)}"'
        f'{" checked" if i == 0 else ""}><label for="user-{i}">{html.escape(u.name)} '
        f'<span class="muted">({html.escape(u.id)})</span></label></div>'
        for i, u in enumerate(users)
    )
    body = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Sign in — partnership dashboard (development)</title>\n"
        '<link rel="icon" type="image/png" href="/docs/static/favicon.png">\n'
        '<link rel="stylesheet" href="/dashboard/dashboard.css">\n</head>\n<body>\n'
        '<main class="login" id="main">\n<h1>Sign in to the partnership dashboard</h1>\n'
        '<p class="warning" role="note">Development login: demo users only, no password. '
        "A real deployment signs in through the partnership's identity provider.</p>\n"
        f'<form method="post" action="/oauth/authorize">{hidden}\n'
        f'<fieldset><legend>Sign in as</legend>{choices}</fieldset>\n'
        '<button type="submit" id="sign-in">Sign in</button>\n</form>\n</main>\n</body>\n</html>\n'
    )
    return HTMLResponse(body, headers={"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff",
                                       "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


@router.get("/oauth/authorize", include_in_schema=False)
async def get_authorize(request: Request) -> HTMLResponse:
    """The development login page (OAuth 2.0 authorization endpoint, PKCE S256 required)."""
    params = dict(request.query_params)
    _check(request, params)
    return _login_page(request, params)


@router.post("/oauth/authorize", include_in_schema=False,
             responses=only(InvalidAuthorizationRequest, LoginUnavailable))
async def post_authorize(request: Request, found: CodesDep) -> RedirectResponse:
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidAuthorizationRequest("The body must be a small form in UTF-8.") from exc
    params = dict(pairs)
    wanted = _check(request, params)
    user = next((u for u in _settings(request).dev_login_users if u.id == params.get("user")), None)
    if user is None:
        raise InvalidAuthorizationRequest("Pick one of the demo users.")
    code = await found.issue(wanted, user.id)
    query = {"code": code} | ({"state": wanted.state} if wanted.state else {})
    # 303: the browser follows with a GET (RFC 9110 §15.4.4); the code goes only to the registered URI.
    return RedirectResponse(f"{wanted.redirect_uri}?{urlencode(query)}", status_code=303,
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def _id_tokens(request: Request) -> IdTokenVerifier:
    settings = _settings(request)
    if not hasattr(request.app.state, "id_tokens"):
        request.app.state.id_tokens = IdTokenVerifier(
            issuer=settings.oidc_issuer, client_id=settings.oidc_client_id, jwks_url=settings.oidc_jwks_url,
            transport=getattr(request.app.state, "oidc_transport", None))
    verifier: IdTokenVerifier = request.app.state.id_tokens
    return verifier


def is_public_grant(request: Request, form: dict[str, str]) -> bool:
    """The dashboard's grants come without client authentication; a partner system's request
    for them (with its secret) is answered as any other grant it may not use."""
    return (form.get("grant_type") in PUBLIC_GRANTS and "client_secret" not in form
            and not request.headers.get("authorization"))


async def public_grant(request: Request, form: dict[str, str], tokens: TokenIssuer) -> IssuedToken:
    """The dashboard's grants: no client secret, a code with its PKCE verifier or an ID token."""
    settings = _settings(request)
    if form.get("client_id") != settings.dashboard_client_id:
        raise InvalidTokenRequest(f"client_id must be {settings.dashboard_client_id}: only the dashboard uses this grant.")
    grant = form["grant_type"]
    if grant == AUTHORIZATION_CODE:
        if not settings.dev_login_users:
            raise UnsupportedGrantType("The development login is off; exchange the identity provider's ID token.")
        redeemed = await Codes(CodeQueries(tokens.clients.queries.session),
                               settings.authorization_code_ttl_seconds).redeem(form, settings.dashboard_client_id)
        subject, scopes = redeemed.subject, redeemed.scopes
    else:
        if not settings.oidc_enabled:
            raise UnsupportedGrantType("No identity provider is configured for token exchange.")
        if form.get("subject_token_type") != ID_TOKEN_TYPE or not form.get("subject_token"):
            raise InvalidTokenRequest(f"Send the ID token as subject_token with subject_token_type={ID_TOKEN_TYPE}.")
        subject, scopes = await _id_tokens(request).subject(form["subject_token"]), list(settings.dashboard_scopes)
    token = tokens.signer.issue(issuer=tokens.issuer, audience=tokens.audience, subject=settings.dashboard_client_id,
                                agency_id=settings.dashboard_agency_id, scopes=scopes, ttl_seconds=tokens.ttl_seconds,
                                acting_user=subject)
    return IssuedToken(access_token=token, expires_in=tokens.ttl_seconds, scopes=sorted(scopes))


@router.get("/dashboard/config.json", include_in_schema=False)
async def get_dashboard_config(request: Request, response: Response) -> dict[str, object]:
    """How the dashboard signs in: the development login here, or the identity provider."""
    settings = _settings(request)
    response.headers["Cache-Control"] = "no-store"
    if settings.oidc_enabled:
        return {"client_id": settings.oidc_client_id, "authorize_url": settings.oidc_authorize_url,
                "token_url": settings.oidc_token_url, "scope": settings.oidc_scope, "exchange": True,
                "gateway_client_id": settings.dashboard_client_id}
    return {"client_id": settings.dashboard_client_id, "authorize_url": "/oauth/authorize", "token_url": "/oauth/token",
            "scope": " ".join(settings.dashboard_scopes), "exchange": False,
            "gateway_client_id": settings.dashboard_client_id, "dev_login": bool(settings.dev_login_users)}
