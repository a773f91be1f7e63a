"""The one settings object of the service, read from ``GENLENS_*`` environment variables.

The embedded default needs no server: SQLite (WAL) for jobs and the kombu filesystem transport
as broker, both under ``GENLENS_DATA_DIR``. Production sets ``GENLENS_DATABASE_URL``
(``postgresql+psycopg://...``) and ``GENLENS_BROKER_URL`` (``redis://...``).
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from genlens.core.limits import ImageLimits


class Settings(BaseSettings):
    """Service configuration; every field can be set as ``GENLENS_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="GENLENS_", extra="ignore")

    data_dir: Path = Field(Path("~/.genlens"), description="Root of every embedded default.")
    database_url: str | None = Field(None, description="Default: SQLite under data_dir.")
    broker_url: str | None = Field(None, description="Default: filesystem transport.")
    result_backend: str | None = Field(
        None, description="Celery result backend; off by default (the job row holds results)."
    )
    artifact_dir: Path | None = Field(None, description="Default: data_dir/artifacts.")
    soft_time_limit: int = Field(1500, gt=0, description="Seconds; raises inside the task.")
    time_limit: int = Field(1800, gt=0, description="Seconds; the child process is killed.")
    visibility_timeout: int = Field(7200, gt=0, description="Redis redelivery timeout, seconds.")
    max_attempts: int = Field(3, ge=1, description="Starts before a job is given up as failed.")
    lease_seconds: float = Field(
        300.0, gt=0, description="A running job without heartbeat this long may be taken over."
    )
    orphan_check_interval: float = Field(
        60.0, ge=0, description="Seconds between re-queueing jobs of lost workers (0: at start)."
    )
    progress_interval: float = Field(0.5, ge=0, description="Seconds between progress writes.")
    polling_interval: float = Field(0.1, gt=0, description="Filesystem broker poll, seconds.")
    proc_alive_timeout: float = Field(180.0, gt=0, description="Child start-up allowance, s.")
    device: str = Field("auto", description="Torch device for models in worker processes.")
    precision: Literal["fp32", "bf16"] = Field(
        "fp32", description="Execution precision of the models in worker processes."
    )
    compile: bool = Field(False, description="torch.compile the models of worker processes.")
    torch_threads: int | None = Field(
        None, ge=1, description="CPU threads per worker process (None: torch's default)."
    )
    preload_models: list[str] = Field(
        default_factory=list, description="Models loaded when a worker process starts."
    )
    plugins: list[str] = Field(
        default_factory=list, description="Modules imported at start-up to register job kinds."
    )
    max_upload_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Uploaded image bytes.")
    max_upload_pixels: int = Field(40_000_000, gt=0, description="Uploaded image pixels.")
    max_model_bytes: int = Field(
        1024 * 1024 * 1024, gt=0, description="A classifier weights file a job carries, bytes."
    )
    max_suite_bytes: int = Field(
        1024 * 1024 * 1024,
        gt=0,
        description="A folder suite a benchmark job carries (zipped and unzipped), bytes.",
    )
    ui_user: str = Field("genlens", description="User name of the front ends' optional login.")
    ui_password: SecretStr | None = Field(
        None, description="When set, the Gradio demo asks for ui_user and this password."
    )
    ui_queue_size: int = Field(64, ge=1, description="Waiting requests per Gradio event.")
    ui_batch_upload_mb: int = Field(
        200, ge=1, description="Largest Streamlit upload (batch or suite archive, weights), MB."
    )

    @model_validator(mode="after")
    def _check_limits(self) -> "Settings":
        if not self.soft_time_limit < self.time_limit < self.visibility_timeout:
            raise ValueError(
                "need soft_time_limit < time_limit < visibility_timeout, got "
                f"{self.soft_time_limit}, {self.time_limit}, {self.visibility_timeout}"
            )
        return self

    @property
    def root(self) -> Path:
        """``data_dir`` with ``~`` expanded, absolute."""
        return self.data_dir.expanduser().resolve()

    @property
    def database(self) -> str:
        """The database URL in effect."""
        return self.database_url or f"sqlite:///{self.root / 'genlens.db'}"

    @property
    def broker(self) -> str:
        """The broker URL in effect."""
        return self.broker_url or "filesystem://"

    @property
    def broker_folder(self) -> Path:
        """Message folder of the filesystem transport."""
        return self.root / "broker"

    @property
    def artifacts(self) -> Path:
        """The local artifact directory in effect."""
        return (self.artifact_dir or self.root / "artifacts").expanduser().resolve()

    @property
    def upload_limits(self) -> ImageLimits:
        """Limits applied to uploaded images at submit time."""
        return ImageLimits(max_pixels=self.max_upload_pixels, max_bytes=self.max_upload_bytes)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
