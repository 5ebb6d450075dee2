"""Rebuild the reporting read model from its event log: ``python -m services.reporting.rebuild``.

Uses the service's settings (``REPORTING_DATABASE_URL`` etc.); runs in one transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from services.reporting.domain.calendar import WorkingCalendar, load_holidays
from services.reporting.domain.read_model import ReadModel
from services.reporting.queries.read_model import ReadModelQueries
from services.reporting.settings import ReportingSettings
from shared.db import Database


async def rebuild(settings: ReportingSettings) -> tuple[int, int]:
    db = Database(settings.effective_database_url)
    try:
        async with db.sessions() as session:
            model = ReadModel(ReadModelQueries(session))
            await model.ensure_calendar(WorkingCalendar(load_holidays(settings.bank_holidays_file or None)))
            done = await model.rebuild(settings.rebuild_batch_size)
            await session.commit()
        return done.events, done.unreadable
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="", help="Overrides REPORTING_DATABASE_URL.")
    args = parser.parse_args(argv)
    settings = ReportingSettings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    events, unreadable = asyncio.run(rebuild(settings))
    print(f"replayed {events} events ({unreadable} unreadable) into the read model")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
