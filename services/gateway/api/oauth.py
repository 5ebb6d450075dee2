from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Request, Response

from services.gateway.api import login
from services.gateway.api.deps import TokenIssuerDep, only
from services.gateway.domain.errors import (
    ClientAuthenticationFailed,
    InvalidScope,
    InvalidTokenRequest,
    TokenRequestsLimited,
    UnsupportedGrantType,
)
from services.gateway.domain.ratelimit import TokenEndpointLimits
from services.gateway.openapi_merge import CLIENT_BASIC_SCHEME
from services.gateway.schemas import TokenRequest, TokenResponse
from shared.errors import PayloadTooLarge, UnsupportedMediaType

router = APIRouter(tags=["oauth"])

_MAX_FIELDS = 10
_FORM = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": TokenRequest.model_json_schema()}},
    },
    # HTTP Basic, or client_id and client_secret in the form.
    "security": [{CLIENT_BASIC_SCHEME: []}, {}],
}


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidTokenRequest("The body must be a small application/x-www-form-urlencoded form in UTF-8.") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise InvalidTokenRequest(f"The parameter {name} was sent more than once.")
        form[name] = value
    return form


def _credentials(authorization: str | None, form: dict[str, str]) -> tuple[str, str]:
    """The client id and secret from HTTP Basic (RFC 6749 §2.3.1) or from the form, never both."""
    if authorization is not None and authorization[:6].lower() == "basic ":
        if "client_secret" in form:
            raise InvalidTokenRequest("Authenticate the client one way only: HTTP Basic or the form.")
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ClientAuthenticationFailed("The Basic credentials are malformed.") from exc
        raw_id, colon, raw_secret = decoded.partition(":")
        client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        if not colon or not client_id:
            raise ClientAuthenticationFailed("The Basic credentials are malformed.")
        if form.get("client_id", client_id) != client_id:
            raise InvalidTokenRequest("client_id in the form differs from the one in HTTP Basic.")
        return client_id, secret
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if not form_id or form_secret is None:
        raise ClientAuthenticationFailed("Send the client id and secret with HTTP Basic, or as client_id and client_secret.")
    return form_id, form_secret


_EXAMPLE: dict[str, Any] = {"access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiIuLi4ifQ.c2ln",
                            "token_type": "Bearer", "expires_in": 900, "scope": "referral:read referral:write"}


@router.post(
    "/oauth/token",
    summary="Get an access token",
    response_model=TokenResponse,
    responses={
        200: {"content": {"application/json": {"example": _EXAMPLE}}},
        **only(InvalidTokenRequest, UnsupportedGrantType, InvalidScope, ClientAuthenticationFailed,
               PayloadTooLarge, UnsupportedMediaType, TokenRequestsLimited),
    },
    openapi_extra=_FORM,
)
async def issue_token(request: Request, response: Response, tokens: TokenIssuerDep) -> TokenResponse:
    """OAuth 2.0 client credentials (RFC 6749 §4.4). Send the form
    `grant_type=client_credentials`, your client id and secret with HTTP Basic
    (or as `client_id` and `client_secret` in the form), and optionally `scope`,
    a space-separated subset of your client's scopes; without it the token
    carries all of them.

    `acting_user` (optional) names the person at your end the token acts for,
    by your system's own staff id (never a name or other personal data; 1-64
    printable characters, no spaces). The token carries it as `act.sub`; every
    service records it in its audit trail, and an assessment submitted by one
    person of your system may be authorised by another. Ask for a token per
    person and keep it for its lifetime.

    The token is a signed JWT naming your client (`sub`) and agency (`agency`),
    valid for `expires_in` seconds; verify it with `/.well-known/jwks.json` if you
    need to. Errors are problem+json with the OAuth error code in `error`:
    `invalid_client` (401), `invalid_request`, `unsupported_grant_type` or
    `invalid_scope` (400). Requests are limited per source address and per
    client id, failed ones included (429 with `Retry-After`)."""
    limits: TokenEndpointLimits = request.app.state.token_limits
    # Before anything else, the slow secret check above all: guessing is turned away cheaply.
    await limits.admit_address(request.client.host if request.client else None)
    form = _form(await request.body())
    if login.is_public_grant(request, form):  # the dashboard's sign-in: api/login.py
        await limits.admit_client(form.get("client_id") or "")
        issued = await login.public_grant(request, form, tokens)
    else:
        client_id, secret = _credentials(request.headers.get("authorization"), form)
        await limits.admit_client(client_id)
        issued = await tokens.client_credentials(form.get("grant_type"), client_id, secret, form.get("scope"),
                                                 form.get("acting_user"))
    # RFC 6749 §5.1: responses carrying tokens must not be cached.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in, scope=" ".join(issued.scopes))
