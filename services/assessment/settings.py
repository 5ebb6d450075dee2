from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

SHIPPED_TOOLKITS = Path(__file__).resolve().parent / "reference"


class AssessmentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ASSESSMENT_", extra="ignore")

    service_name: str = "assessment"
    #: Toolkit definitions (``*.yaml``, structure only) loaded into the database at start.
    toolkit_dir: Path = SHIPPED_TOOLKITS
    load_shipped_toolkits: bool = True
    #: The referral service, asked (as the caller) whether the caller may see a child.
    referral_url: str = "http://127.0.0.1:8001"
    referral_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    #: Trajectory: an improvement counts as sustained once it has held this long.
    sustained_improvement_months: int = Field(default=6, ge=1, le=60)
    #: Trajectory: an area is deteriorating when worse by at least this much (in the tool's direction).
    trajectory_worse_by: int = Field(default=1, ge=1)
    #: Trajectory: an area is improving when better by at least this much.
    trajectory_better_by: int = Field(default=1, ge=1)
