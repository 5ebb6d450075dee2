"""Typed event contracts: each event's data is a Pydantic model owned by its producer.

A producer keeps a :class:`Catalogue` in its ``events.py`` and registers one
:class:`EventData` model per event type (with the event's schema version). Emit
sites build the model and :func:`publish` it: the model is validated again and its
JSON goes to the outbox (``shared.events.Outbox.emit``) unchanged, so the payload is
exactly the model's JSON.

Consumers never import a producer's models (no service imports another): the
catalogue exports JSON Schemas (``scripts/event_docs.py``, ``make events``) and each
consumer keeps its own committed copy. :meth:`Catalogue.id_fields` names each event's
identifier fields (for thin webhook payloads); :meth:`Catalogue.webhook_schema` is the
whole signed body a receiver gets.

No domain code here: only the base, the registry and the publishing helper.
"""

from __future__ import annotations

import json
import typing
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, PlainSerializer

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: The version the outbox puts in every envelope (``shared.events.EVENT_VERSION``).
OUTBOX_VERSION = 1


def _iso(value: datetime) -> str:
    # datetime.isoformat ("+00:00"), as the events carried before they were typed; never "Z".
    return value.isoformat()


#: A moment, sent as ``datetime.isoformat()`` (producers send aware UTC times).
Instant = Annotated[datetime, PlainSerializer(_iso, return_type=str)]


class EventData(BaseModel):
    """The data of one event type: strict (no coercion), no fields beyond the declared ones.

    Optional fields that an emit site leaves out are left out of the payload too
    (``exclude_unset``): a field is in the JSON exactly when the producer set it.
    """

    model_config = ConfigDict(strict=True, extra="forbid")

    #: Set by :meth:`Catalogue.register`.
    event_type: ClassVar[str] = ""
    event_version: ClassVar[int] = 1

    def payload(self) -> dict[str, Any]:
        """The JSON-ready data: what goes into the envelope's ``data``."""
        return self.model_dump(mode="json", exclude_unset=True)


E = TypeVar("E", bound=type[EventData])


@dataclass(frozen=True)
class Contract:
    """One registered event type."""

    producer: str
    event_type: str
    version: int
    model: type[EventData]
    ids: tuple[str, ...]

    @property
    def summary(self) -> str:
        return " ".join((self.model.__doc__ or "").split())


def _field_names(model: type[EventData]) -> list[str]:
    return list(model.model_fields)


class Catalogue:
    """The event types one producer emits: type -> model, version and identifier fields."""

    def __init__(self, producer: str) -> None:
        self.producer = producer
        self._contracts: dict[str, Contract] = {}

    def register(self, event_type: str, *, version: int = 1,
                 ids: tuple[str, ...] | None = None) -> Callable[[E], E]:
        """Class decorator: ``@CATALOGUE.register("child.registered")``. ``ids`` defaults to
        the single record ids: fields named ``*_id`` typed as a UUID (not ``la_child_id``, a
        local reference, nor a ``partnership_id`` slug, nor lists of other agencies)."""

        def add(model: E) -> E:
            if event_type in self._contracts:
                raise ValueError(f"{event_type} is registered twice")
            if model.event_type:
                raise ValueError(f"{model.__name__} already stands for {model.event_type}; subclass it")
            fields = _field_names(model)
            found = ids if ids is not None else tuple(n for n in fields if n.endswith("_id") and _is_uuid_field(model, n))
            unknown = [name for name in found if name not in fields]
            if unknown:
                raise ValueError(f"{event_type}: no such id fields {unknown}")
            model.event_type, model.event_version = event_type, version
            self._contracts[event_type] = Contract(self.producer, event_type, version, model, tuple(found))
            return model

        return add

    # --- looking up ------------------------------------------------------------------------------

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._contracts

    def __iter__(self) -> Iterator[Contract]:
        return iter(self._contracts.values())

    def types(self) -> list[str]:
        return list(self._contracts)

    def contract(self, event_type: str) -> Contract:
        try:
            return self._contracts[event_type]
        except KeyError:
            raise KeyError(f"{self.producer} emits no {event_type!r}") from None

    def model(self, event_type: str) -> type[EventData]:
        return self.contract(event_type).model

    def version(self, event_type: str) -> int:
        return self.contract(event_type).version

    def id_fields(self, event_type: str) -> tuple[str, ...]:
        """The identifier fields of an event type (child_id, referral_id, ...): all a thin
        webhook payload needs; the receiver fetches the rest with its own token."""
        return self.contract(event_type).ids

    def ids_of(self, event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """The identifier fields of one event's data (a thin webhook payload's ``data``)."""
        return {name: data[name] for name in self.id_fields(event_type) if name in data}

    def build(self, event_type: str, **fields: Any) -> EventData:
        """The model of ``event_type`` from keyword fields (validated: strict, no extras)."""
        return self.model(event_type)(**fields)

    # --- schemas -------------------------------------------------------------------------------------

    def json_schema(self, event_type: str) -> dict[str, Any]:
        """The JSON Schema of an event type's ``data``, with the contract's metadata."""
        c = self.contract(event_type)
        schema = c.model.model_json_schema(mode="validation")
        return {
            "$schema": JSON_SCHEMA_DIALECT,
            "$id": f"urn:neglect-backbone:event:{c.producer}:{c.event_type}:v{c.version}",
            "x-event-type": c.event_type,
            "x-producer": c.producer,
            "x-version": c.version,
            "x-id-fields": list(c.ids),
            **schema,
        }

    def webhook_schema(self, event_type: str) -> dict[str, Any]:
        """The JSON Schema of the whole signed body a subscriber receives for ``event_type``."""
        c = self.contract(event_type)
        data = c.model.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
        defs = data.pop("$defs", {})
        envelope: dict[str, Any] = {
            "$schema": JSON_SCHEMA_DIALECT,
            "title": f"{c.event_type} v{c.version}",
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "type", "source", "occurred_at", "version", "data"],
            "properties": {
                "id": {"type": "string", "description": "The event id; equal to the webhook-id header."},
                "type": {"const": c.event_type},
                "source": {"const": c.producer},
                "occurred_at": {"type": "string", "format": "date-time"},
                "version": {"const": c.version},
                "data": data,
            },
        }
        if defs:
            envelope["$defs"] = defs
        return envelope


class _Outbox(Protocol):
    async def emit(self, event_type: str, occurred_at: datetime | None = None, **data: Any) -> Any: ...


async def publish(outbox: _Outbox, event: EventData, occurred_at: datetime | None = None) -> Any:
    """Validate ``event`` and record it in the outbox, in the caller's transaction.

    The model is checked again from its own JSON (a model built with ``model_construct``
    or changed after construction is caught here), then its JSON is the event's data.
    """
    model = type(event)
    if not model.event_type:
        raise TypeError(f"{model.__name__} is not registered in any catalogue")
    if model.event_version != OUTBOX_VERSION:
        # The outbox stamps every envelope with shared.events.EVENT_VERSION; a version 2 needs
        # the outbox to carry the model's version first.
        raise ValueError(f"{model.event_type} is version {model.event_version}; the outbox sends {OUTBOX_VERSION}")
    data = event.payload()
    model.model_validate_json(json.dumps(data))
    return await outbox.emit(model.event_type, occurred_at, **data)


def _is_uuid_field(model: type[BaseModel], name: str) -> bool:
    """Whether a field holds one record id: ``uuid.UUID`` or ``uuid.UUID | None``."""
    annotation = model.model_fields[name].annotation
    return annotation is uuid.UUID or uuid.UUID in typing.get_args(annotation)
