"""What every Streamlit page shares: the job client (one per process and configuration), the
batch and benchmark jobs submitted in this browser session and the session keys and choices
of the benchmark form."""

import os

import streamlit as st

from genlens.db.migrate import upgrade
from genlens.worker.client import JobClient
from genlens.worker.settings import Settings

BATCHES = "batches"
ESTIMATE_KEY = "benchmark-estimate"
"""Session key of the last benchmark estimate's result."""
BENCHMARK_KEY = "last-benchmark"
"""Session key of the last benchmark job's id."""
REGISTERED = "a registered suite"
UPLOADED = "a folder suite (zip upload)"
"""The benchmark form's two suite sources."""
WEIGHTS_UPLOAD = "a weights file (upload)"
"""The benchmark form's model choice for an uploaded weights file."""


@st.cache_resource
def _client(environment: tuple[tuple[str, str], ...]) -> JobClient:
    upgrade(Settings().database)
    return JobClient(Settings())


def client() -> JobClient:
    """The job client for the current ``GENLENS_*`` environment (shared by all sessions)."""
    return _client(
        tuple(
            sorted((key, value) for key, value in os.environ.items() if key.startswith("GENLENS_"))
        )
    )


def my_batches() -> list[str]:
    """Batch and benchmark job ids submitted in this browser session, newest first."""
    return st.session_state.setdefault(BATCHES, [])


def remember_batch(batch_id: str) -> None:
    """Put ``batch_id`` first in the session's batches."""
    st.session_state[BATCHES] = [batch_id, *[b for b in my_batches() if b != batch_id]]
