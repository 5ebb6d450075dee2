"""Request and response bodies of the dashboard targets (``/v1/dashboard/targets``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TargetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    figure: str = Field(min_length=3, max_length=80, examples=["timeliness:referral_decision"],
                        description="The figure: `timeliness:<clock>` (percent on time), `alerts:<clock>` "
                                    "(items overdue), `caseload:<figure>` or `metric:<NQxx>` (the quarter's total).")
    direction: Literal["higher_is_better", "lower_is_better"]
    green: float = Field(ge=0, le=1_000_000, allow_inf_nan=False,
                         description="The target: at or better than this is green.")
    amber: float = Field(ge=0, le=1_000_000, allow_inf_nan=False,
                         description="At or better than this (but short of green) is amber; worse is red.")
    label: str | None = Field(default=None, min_length=1, max_length=120,
                              description="How the dashboard names the target, if not by the figure's own title.")


class TargetsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: list[TargetBody] = Field(max_length=200)


class TargetsRead(BaseModel):
    targets: list[TargetBody]
    version: int = Field(description="Also the ETag; 0 while no targets were ever set.")
    updated_at: datetime | None
    updated_by: str | None
