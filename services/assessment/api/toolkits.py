from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Response
from fastapi.responses import JSONResponse

from services.assessment.api.deps import CanRead, IsAdmin, ToolkitsDep
from services.assessment.domain.definitions import as_current
from services.assessment.domain.errors import (
    InvalidToolkit,
    ToolkitNotFound,
    ToolkitVersionExists,
    ToolkitVersionNotFound,
)
from services.assessment.domain.toolkits import definition_etag
from services.assessment.models import Toolkit, ToolkitVersion
from services.assessment.schemas.toolkits import (
    ToolkitDefinition,
    ToolkitPage,
    ToolkitPublish,
    ToolkitSummary,
    ToolkitVersionPage,
    ToolkitVersionRead,
    ToolkitVersionSummary,
)
from shared.errors import problems
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import PageDep, set_link_header

router = APIRouter(prefix="/toolkits", tags=["toolkits"])

ToolkitId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,59}$", description="The toolkit's id, e.g. `gcp2`.")]
VersionId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$", description="A published version, e.g. `2-structure-1`.")]
IfNoneMatch = Annotated[str | None, Header(description="An ETag you hold; 304 when it is still current.")]
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the definition matching your If-None-Match is still current."},
}


def version_read(toolkit: Toolkit, version: ToolkitVersion) -> ToolkitVersionRead:
    return ToolkitVersionRead(
        toolkit_id=toolkit.id, name=toolkit.name, owner=toolkit.owner, version=version.version,
        status="published", published_at=version.published_at,
        definition=ToolkitDefinition.model_validate(as_current(version.definition)),
    )


def _still_current(if_none_match: str | None, tag: str) -> bool:
    if if_none_match is None:
        return False
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return "*" in candidates or tag in candidates


def _definition_response(
    toolkit: Toolkit, version: ToolkitVersion, if_none_match: str | None, response: Response
) -> ToolkitVersionRead | Response:
    tag = definition_etag(version)
    if _still_current(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    return version_read(toolkit, version)


@router.get("", responses=problems())
async def list_toolkits(who: CanRead, toolkits: ToolkitsDep, page: PageDep, response: Response) -> ToolkitPage:
    """The toolkits this partnership can assess with, by id, each with its latest published
    version. Follow `Link: rel="next"` for more."""
    rows, next_cursor = await toolkits.page(page)
    set_link_header(response, page, next_cursor)
    items = [
        ToolkitSummary(id=r.toolkit.id, name=r.toolkit.name, owner=r.toolkit.owner, latest_version=r.latest_version,
                       latest_published_at=r.latest_published_at, created_at=r.toolkit.created_at)
        for r in rows
    ]
    return ToolkitPage(items=items, next_cursor=next_cursor)


@router.post(
    "", status_code=201, response_model=ToolkitVersionRead,
    responses=problems(InvalidToolkit, ToolkitVersionExists),
)
async def publish_toolkit(body: ToolkitPublish, who: IsAdmin, toolkits: ToolkitsDep, idem: IdempotencyDep) -> JSONResponse:
    """Publish a partnership's own toolkit, or a new version of one (scope `admin`).

    The body has the shape of the shipped definition files: the tool, its rating scale
    (numbers with your own labels, or named values such as very / sometimes / not
    concerned, each saying whether evidence is required), areas with sub-areas or items,
    optional raters (each scoring separately), totals (only on a scale that may be added
    up) and the suggestion rule. Structure only: licensed wording (item text, grade
    descriptors, guidance) is refused. Every problem is listed in the 422's `errors`; a
    version already published is a 409, as published versions never change. Send
    `Idempotency-Key` to retry safely."""

    async def create() -> Created:
        toolkit, version = await toolkits.publish(who, body.model_dump(exclude_none=True))
        return Created(version_read(toolkit, version), {
            "Location": f"/v1/toolkits/{toolkit.id}/versions/{version.version}",
            "ETag": definition_etag(version),
        })

    return await idem.run(who, body, create)


@router.get(
    "/{toolkit_id}/versions", responses=problems(ToolkitNotFound),
)
async def list_toolkit_versions(
    toolkit_id: ToolkitId, who: CanRead, toolkits: ToolkitsDep, page: PageDep, response: Response,
) -> ToolkitVersionPage:
    """Every published version of a toolkit, oldest first. Assessments name the version they used."""
    _, rows, next_cursor = await toolkits.versions(toolkit_id, page)
    set_link_header(response, page, next_cursor)
    return ToolkitVersionPage(
        toolkit_id=toolkit_id, next_cursor=next_cursor,
        items=[ToolkitVersionSummary(version=v.version, published_at=v.published_at) for v in rows],
    )


@router.get(
    "/{toolkit_id}", response_model=ToolkitVersionRead,
    responses={**problems(ToolkitNotFound, ToolkitVersionNotFound), **NOT_MODIFIED},
)
async def get_toolkit(
    toolkit_id: ToolkitId, who: CanRead, toolkits: ToolkitsDep, response: Response,
    if_none_match: IfNoneMatch = None,
) -> ToolkitVersionRead | Response:
    """The toolkit's latest published definition: areas, sub-areas, the grade scale and the
    judgement rules. Structure only: item wording and grade descriptors are licensed and are
    never served here. The `ETag` changes when a newer version is published; send it back as
    `If-None-Match` to get a 304 while your copy is current."""
    toolkit, version = await toolkits.latest(toolkit_id)
    return _definition_response(toolkit, version, if_none_match, response)


@router.get(
    "/{toolkit_id}/versions/{version}", response_model=ToolkitVersionRead,
    responses={**problems(ToolkitNotFound, ToolkitVersionNotFound), **NOT_MODIFIED},
)
async def get_toolkit_version(
    toolkit_id: ToolkitId, version: VersionId, who: CanRead, toolkits: ToolkitsDep, response: Response,
    if_none_match: IfNoneMatch = None,
) -> ToolkitVersionRead | Response:
    """One published version of a toolkit. Published versions never change, so an assessment
    made with a version can always be read against exactly the definition it used."""
    toolkit, found = await toolkits.version(toolkit_id, version)
    return _definition_response(toolkit, found, if_none_match, response)
