from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    service_name: str = "reporting"

    # --- partnership configuration: defaults, overridden by the admin endpoint ----------------
    #: The local authority's 3-digit DfE LA code (census header LEA); empty until configured.
    la_code: str = Field(default="", pattern=r"^(\d{3})?$")
    #: Resident children aged 0-17 (ONS mid-year estimate) and the year of that estimate.
    population_0_17: int | None = Field(default=None, ge=1)
    population_year: int | None = Field(default=None, ge=1990, le=2100)
    #: Small-number suppression per token scope: a caller holding any scope mapped to false
    #: sees unsuppressed figures; everyone else sees suppressed ones.
    suppression: dict[str, bool] = Field(
        default_factory=lambda: {"reporting:read": True, "reporting:export": False}
    )

    # --- dataset rules (design defaults from reference/quarterly_dataset.yaml) -------------------
    #: Longest custom period a caller may ask for, in days.
    max_period_days: int = Field(default=800, ge=1)
    #: Most quarters in one dashboard time series.
    max_series_quarters: int = Field(default=20, ge=1, le=80)
    step_down_window_days: int = Field(default=28, ge=0, le=365)
    neglect_cp_plan_minimum_months: int = Field(default=6, ge=1, le=60)
    duration_bands_months: list[int] = Field(default_factory=lambda: [3, 6, 12, 24])
    #: Where the 45-working-day assessment clock starts: the referral (WT2023) or the assessment start.
    assessment_clock_start: str = Field(default="referral", pattern=r"^(referral|assessment_start)$")
    #: A clock due within this many working days is counted as due soon on the dashboard.
    due_soon_working_days: int = Field(default=2, ge=0, le=20)

    # --- files (empty: the bundled reference data) ------------------------------------------------
    timescales_file: str = ""
    census_years_file: str = ""
    bank_holidays_file: str = ""

    # --- census header -----------------------------------------------------------------------------
    census_software_code: str = "neglect-backbone"
    census_release: str = "1.0"
    #: Children per page of the census export (and rows per partition of Annex A lists).
    export_page_size: int = Field(default=500, ge=1, le=10_000)

    #: Events applied per transaction when the read model is rebuilt from the event log.
    rebuild_batch_size: int = Field(default=2000, ge=1)
    #: Whether the assessment service's toolkit assessment events (``assessment.authorised``) feed
    #: this partnership's read model; when off, NQ27/NQ28 and trajectories say not available.
    toolkit_events: bool = True
    #: Each tool's scale direction, as in its definition in the assessment service: needed to tell
    #: a better grade from a worse one. A tool not listed is classified ``unknown``.
    toolkit_scale_directions: dict[str, str] = Field(default_factory=lambda: {
        "gcp2": "higher_is_worse", "local_neglect_screening": "higher_is_worse", "signs_of_safety": "higher_is_better"})
