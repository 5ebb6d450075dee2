"""Threshold models as versioned data.

Each partnership publishes its model as numbered versions; a published version
never changes, and one version per partnership is active. The configured
partnership's model is loaded from reference data the first time it is needed,
so a fresh service recommends without any setup.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import yaml

from services.referral import events as ev
from services.referral.domain.codes import REFERENCE
from services.referral.domain.evidence import param_problems
from services.referral.domain.thresholds import InvalidThresholdModel, ThresholdModel, parse_model
from services.referral.models import ThresholdModelVersion
from services.referral.queries.referrals import ThresholdModelQueries
from shared.audit import Audit
from shared.contracts import publish
from shared.errors import Conflict, DuplicateRecord, NotFound, Unprocessable
from shared.events import Outbox
from shared.pagination import PageParams
from shared.tokens import Principal

REFERENCE_FILE = "thresholds_example.yaml"
REFERENCE_AUTHOR = "reference-data"


class ThresholdModelNotFound(NotFound):
    slug, title = "threshold-model-not-found", "No such threshold model version"


class ThresholdModelVersionExists(DuplicateRecord):
    slug, title = "threshold-model-version-exists", "This ruleset version is already published (published versions never change)"


class InvalidThresholdModelData(Unprocessable):
    slug, title = "invalid-threshold-model", "The threshold model is not valid"


class NoActiveThresholdModel(Conflict):
    slug, title = "no-active-threshold-model", "The partnership has no active threshold model"


@cache
def reference_data() -> dict[str, Any]:
    with (REFERENCE / REFERENCE_FILE).open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


@cache
def outcome_ids() -> tuple[str, ...]:
    """The shared vocabulary of decision outcomes (Working Together 2023)."""
    return tuple(str(o["id"]) for o in reference_data()["decision_outcomes"])


@cache
def outcome_labels() -> dict[str, str]:
    return {str(o["id"]): str(o["label"]) for o in reference_data()["decision_outcomes"]}


@cache
def engine_facts() -> tuple[str, ...]:
    return tuple(reference_data()["engine"]["facts"])


def reference_model(partnership_id: str) -> dict[str, Any] | None:
    return next((dict(p) for p in reference_data()["partnerships"] if p["id"] == partnership_id), None)


def validate(data: Mapping[str, Any]) -> ThresholdModel:
    """The parsed model, or every problem with it at once."""
    problems: list[str] = []
    model: ThresholdModel | None = None
    try:
        model = parse_model(data, outcome_ids(), engine_facts())
    except InvalidThresholdModel as exc:
        problems += exc.problems
    problems += param_problems(data.get("rules"))
    if problems or model is None:
        raise InvalidThresholdModelData(
            f"{len(problems)} problem(s) with the threshold model.",
            errors=[{"field": _field(p), "message": p, "code": "threshold_model"} for p in problems],
        )
    return model


def _field(problem: str) -> str:
    head = problem.split(" ", 1)[0].rstrip(":")
    return f"body.{head}" if head.startswith(("levels[", "rules[")) else "body"


# Published versions never change, so a parsed model can be kept for the process's life.
_parsed: dict[uuid.UUID, ThresholdModel] = {}


def parsed(row: ThresholdModelVersion) -> ThresholdModel:
    model = _parsed.get(row.id)
    if model is None:
        model = parse_model(row.definition, outcome_ids(), engine_facts())
        _parsed[row.id] = model
    return model


async def ensure_active(queries: ThresholdModelQueries, partnership_id: str) -> ThresholdModelVersion:
    """The active model row, loading the reference one the first time (also run at start-up,
    so that requests only read it)."""
    row = await queries.active(partnership_id)
    return row if row is not None else await _bootstrap(queries, partnership_id)


async def _bootstrap(queries: ThresholdModelQueries, partnership_id: str) -> ThresholdModelVersion:
    data = reference_model(partnership_id)
    if data is None:
        raise NoActiveThresholdModel(
            f"Partnership {partnership_id} has no active threshold model and none in reference data; "
            "an administrator must publish and activate one.")
    version = str(data["ruleset_version"])
    row = await queries.get(partnership_id, version)
    if row is None:
        validate(data)
        candidate = ThresholdModelVersion(partnership_id=partnership_id, ruleset_version=version,
                                          name=str(data["name"]), definition=data, created_by=REFERENCE_AUTHOR)
        # Two first uses at once: one insert wins, the other reads the winner.
        row = candidate if await queries.insert(candidate) else await queries.get(partnership_id, version)
        if row is None:
            raise NoActiveThresholdModel("The reference threshold model could not be loaded; try again.")
    await queries.activate(partnership_id, row.id)
    row.active = True
    return row


async def publish_reference_update(queries: ThresholdModelQueries, partnership_id: str) -> ThresholdModelVersion | None:
    """A newer shipped version of the partnership's reference model, published beside the one in
    force but never activated: switching a partnership's thresholds is an administrator's decision.
    None when there is nothing new (or no reference model)."""
    data = reference_model(partnership_id)
    if data is None or await queries.active(partnership_id) is None:
        return None
    version = str(data["ruleset_version"])
    if await queries.get(partnership_id, version) is not None:
        return None
    validate(data)
    row = ThresholdModelVersion(partnership_id=partnership_id, ruleset_version=version, name=str(data["name"]),
                                definition=data, active=False, created_by=REFERENCE_AUTHOR)
    return row if await queries.insert(row) else None


class ThresholdModels:
    def __init__(self, queries: ThresholdModelQueries, audit: Audit, outbox: Outbox) -> None:
        self.queries = queries
        self.audit = audit
        self.outbox = outbox

    async def active(self, partnership_id: str) -> tuple[ThresholdModelVersion, ThresholdModel]:
        """The partnership's active model; on first use, the one in reference data."""
        row = await ensure_active(self.queries, partnership_id)
        return row, parsed(row)

    async def peek(self, partnership_id: str) -> tuple[uuid.UUID | None, ThresholdModel | None]:
        """The model ``active`` would give, read without writing: the active row's id and model,
        or (None, the reference model) before its first use loads it. None when there is neither
        (``active`` then refuses)."""
        row = await self.queries.active(partnership_id)
        if row is not None:
            return row.id, parsed(row)
        data = reference_model(partnership_id)
        if data is None:
            return None, None
        try:
            return None, parse_model(data, outcome_ids(), engine_facts())
        except InvalidThresholdModel:
            return None, None


    async def versions(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ThresholdModelVersion]:
        return await self.queries.by_ids(ids)

    async def page(self, page: PageParams, partnership_id: str | None, active: bool | None,
                   configured: str) -> tuple[Sequence[ThresholdModelVersion], str | None]:
        await self._ensure(configured)
        return await self.queries.page(page, partnership_id, active)

    async def get(self, partnership_id: str, ruleset_version: str, configured: str) -> ThresholdModelVersion:
        await self._ensure(configured)
        row = await self.queries.get(partnership_id, ruleset_version)
        if row is None:
            raise ThresholdModelNotFound(f"No version {ruleset_version} of partnership {partnership_id}'s threshold model.")
        return row

    async def _ensure(self, configured: str) -> None:
        if await self.queries.active(configured) is None and reference_model(configured) is not None:
            await _bootstrap(self.queries, configured)
        else:
            await publish_reference_update(self.queries, configured)

    async def publish(self, who: Principal, data: dict[str, Any]) -> ThresholdModelVersion:
        """A new version, inactive until activated. Existing versions are never replaced."""
        model = validate(data)
        if await self.queries.get(model.partnership_id, model.ruleset_version) is not None:
            raise ThresholdModelVersionExists(
                f"Version {model.ruleset_version} is already published for {model.partnership_id}; publish a new version.")
        row = ThresholdModelVersion(partnership_id=model.partnership_id, ruleset_version=model.ruleset_version,
                                    name=model.name, definition=data, active=False,
                                    created_by=(who.acting_user or who.client_id)[:100])
        if not await self.queries.insert(row):
            raise ThresholdModelVersionExists(f"Version {model.ruleset_version} was published a moment ago.")
        self.audit.record(who, "create", "threshold_model", [])
        await publish(self.outbox, ev.ThresholdModelPublished(threshold_model_id=row.id, partnership_id=row.partnership_id,
                                                              ruleset_version=row.ruleset_version))
        return row

    async def activate(self, who: Principal, partnership_id: str, ruleset_version: str) -> ThresholdModelVersion:
        row = await self.queries.get(partnership_id, ruleset_version)
        if row is None:
            raise ThresholdModelNotFound(f"No version {ruleset_version} of partnership {partnership_id}'s threshold model.")
        previous = await self.queries.active(partnership_id)
        await self.queries.activate(partnership_id, row.id)
        row.active = True
        self.audit.record(who, "update", "threshold_model", [])
        await publish(self.outbox, ev.ThresholdModelActivated(
            threshold_model_id=row.id, partnership_id=partnership_id, ruleset_version=ruleset_version,
            previous_ruleset_version=previous.ruleset_version if previous else None))
        return row
