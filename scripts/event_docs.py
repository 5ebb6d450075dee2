"""The event catalogue, generated from the producers' event models (``make events``).

Writes the generated part of docs/events.md (everything below the marker line; the
prose above it is kept as written) and exports the JSON Schema of every event type a
consumer reads into that consumer's own committed copy:
``services/reporting/contracts/<producer>/<type>.v<version>.json``. Services never
import each other, so reporting reads those files, not the producers' models.

    python scripts/event_docs.py           # regenerate
    python scripts/event_docs.py --check   # exit 1 when the committed files are stale
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.assessment.events import CATALOGUE as ASSESSMENT  # noqa: E402
from services.referral.events import CATALOGUE as REFERRAL  # noqa: E402
from services.reporting.domain.projection import PROJECTIONS  # noqa: E402
from shared.contracts import Catalogue  # noqa: E402

DOC = ROOT / "docs" / "events.md"
MARKER = "<!-- Generated below by scripts/event_docs.py from the event models (make events): edit the models, not this part. -->"
CATALOGUES: tuple[Catalogue, ...] = (REFERRAL, ASSESSMENT)
#: consumer -> (its declared reads: producer -> type -> field -> read, the folder of its schema copies)
CONSUMERS: dict[str, tuple[Mapping[str, Mapping[str, Mapping[str, Any]]], Path]] = {
    "reporting": (PROJECTIONS, ROOT / "services" / "reporting" / "contracts"),
}
TITLES = {"referral": "Referral service", "assessment": "Assessment service"}


def dumps(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def kind(schema: Mapping[str, Any]) -> str:
    """A field's JSON type in a few words: ``uuid``, ``date or null``, ``array of string``."""
    if "anyOf" in schema:
        return " or ".join(kind(option) for option in schema["anyOf"])
    if "format" in schema:
        return str(schema["format"])
    if schema.get("type") == "array":
        return f"array of {kind(schema.get('items', {}))}"
    if schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return f"map of {kind(schema['additionalProperties'])}"
    return str(schema.get("type", "any"))


def readers(producer: str, event_type: str, field: str) -> str:
    found = []
    for consumer, (reads, _) in CONSUMERS.items():
        read = reads.get(producer, {}).get(event_type, {}).get(field)
        if read is not None:
            found.append(f"{consumer} (required)" if read.required else consumer)
    return ", ".join(found)


def catalogue_markdown() -> str:
    out = [
        MARKER, "",
        "Each event type below is a Pydantic model in its producer's `events.py` (strict, no",
        "extra fields), registered in the producer's `CATALOGUE` with its version; emit sites",
        "build the model and `shared.contracts.publish` it. *Ids* are the identifier fields",
        "(`Catalogue.id_fields`): what a thin webhook payload carries. *Read by* names the",
        "consumers that read a field (from their declared reads, e.g. reporting's",
        "`PROJECTIONS`); *required* means the consumer refuses the event without it (422",
        "`event-contract-broken`). Consumers keep committed copies of the JSON Schemas",
        "(`services/reporting/contracts/<producer>/<type>.v<version>.json`);",
        "`python scripts/event_docs.py --check` fails when they, or this page, are stale.",
        "",
    ]
    for catalogue in CATALOGUES:
        out += [f"## {TITLES.get(catalogue.producer, catalogue.producer)} (`source: {catalogue.producer}`)", ""]
        out += ["| type | version | ids | what happened |", "|---|---|---|---|"]
        out += [f"| `{c.event_type}` | {c.version} | {', '.join(f'`{i}`' for i in c.ids)} | {c.summary} |"
                for c in catalogue]
        out.append("")
        for c in catalogue:
            schema = catalogue.json_schema(c.event_type)
            required = set(schema.get("required", []))
            out += [f"### `{c.event_type}` (v{c.version})", "", c.summary, "",
                    "| field | type | always sent | description | read by |", "|---|---|---|---|---|"]
            for name, field in schema.get("properties", {}).items():
                sent = "yes" if name in required else "when set"
                description = str(field.get("description", "")).replace("|", "\\|")
                out.append(f"| `{name}` | {kind(field)} | {sent} | {description} | "
                           f"{readers(c.producer, c.event_type, name)} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def expected_files() -> dict[Path, str]:
    """Every generated file and its content."""
    files: dict[Path, str] = {}
    text = DOC.read_text() if DOC.exists() else "# Event catalogue\n\n"
    prose = text.split(MARKER, 1)[0].rstrip() + "\n\n"
    files[DOC] = prose + catalogue_markdown()
    for reads, folder in CONSUMERS.values():
        for catalogue in CATALOGUES:
            for event_type in reads.get(catalogue.producer, {}):
                if event_type not in catalogue:
                    continue  # a read of a type nobody emits: the contract test says so
                version = catalogue.version(event_type)
                path = folder / catalogue.producer / f"{event_type}.v{version}.json"
                files[path] = dumps(catalogue.json_schema(event_type))
    return files


def stale(files: Mapping[Path, str]) -> list[str]:
    problems = [f"{path.relative_to(ROOT)} is out of date" for path, content in files.items()
                if not path.exists() or path.read_text() != content]
    for _, folder in CONSUMERS.values():
        problems += [f"{path.relative_to(ROOT)} is no longer generated" for path in sorted(folder.rglob("*.json"))
                     if path not in files]
    return problems


def write(files: Mapping[Path, str]) -> None:
    for _, folder in CONSUMERS.values():
        for path in folder.rglob("*.json"):
            if path not in files:
                path.unlink()
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            print(f"wrote {path.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail when the committed files are stale")
    args = parser.parse_args(argv)
    files = expected_files()
    if args.check:
        problems = stale(files)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("Run `make events` and commit the result.", file=sys.stderr)
            return 1
        print(f"event catalogue up to date ({len(files)} files)")
        return 0
    write(files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
