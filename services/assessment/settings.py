from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

SHIPPED_TOOLKITS = Path(__file__).resolve().parent / "reference"


class AssessmentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ASSESSMENT_", extra="ignore")

    service_name: str = "assessment"
    #: Toolkit definitions (``*.yaml``, structure only) loaded into the database at start.
    toolkit_dir: Path = SHIPPED_TOOLKITS
    load_shipped_toolkits: bool = True
