from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.gateway.schemas import JwkSet

router = APIRouter(tags=["oauth"])


@router.get("/.well-known/jwks.json", summary="Token signing keys", response_model=JwkSet,
            response_model_exclude_none=True)
async def get_jwks(request: Request, response: Response) -> JwkSet:
    """The public keys that verify the gateway's access tokens (RFC 7517), one per
    `kid`. During a key rotation both keys are listed. Cache it for a few minutes
    and fetch it again when a token names a `kid` you do not know."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return JwkSet.model_validate(request.app.state.signer.jwks())
