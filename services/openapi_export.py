"""The combined OpenAPI document built in-process, for ``python -m services.cli openapi``
(``make client``) and the contract test: every service's app is built (nothing is started,
no database is opened) and merged exactly as the running gateway merges their documents.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any


def combined_document(public_url: str | None = None) -> dict[str, Any]:
    """The document the gateway serves at ``/openapi.json`` when every service is up."""
    from services.assessment.app import create_app as create_assessment
    from services.assessment.settings import AssessmentSettings
    from services.gateway.app import create_app as create_gateway
    from services.gateway.domain.routing import service_for
    from services.gateway.openapi_merge import merge_documents
    from services.gateway.settings import GatewaySettings
    from services.referral.app import create_app as create_referral
    from services.referral.settings import ReferralSettings
    from services.reporting.app import create_app as create_reporting
    from services.reporting.settings import ReportingSettings

    with tempfile.TemporaryDirectory(prefix="neglect-openapi-") as folder:
        # Throwaway databases that are never opened and a throwaway signing key.
        def url(name: str) -> str:
            return f"sqlite+aiosqlite:///{Path(folder) / (name + '.db')}"

        common: dict[str, Any] = {"relay_enabled": False, "log_level": "WARNING"}
        gateway_settings: dict[str, Any] = {**common, "database_url": url("gateway"), "key_dir": Path(folder) / "keys"}
        if public_url:
            gateway_settings["public_url"] = public_url
        gateway = create_gateway(GatewaySettings(**gateway_settings), upstreams={})
        services = {
            "referral": create_referral(ReferralSettings(**common, database_url=url("referral"))).openapi(),
            "assessment": create_assessment(AssessmentSettings(**common, database_url=url("assessment"))).openapi(),
            "reporting": create_reporting(ReportingSettings(**common, database_url=url("reporting"))).openapi(),
        }
        return merge_documents(gateway.api.openapi(), services, [], service_for,
                               public_url=gateway.api.state.settings.public_url)
