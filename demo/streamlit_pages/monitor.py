"""Monitor batches: progress of this session's batches and benchmarks (or everyone's batches),
refreshed every couple of seconds by a fragment; cancel one."""

import streamlit as st

from genlens.demo.jobs import job_rows
from genlens.demo.streamlit_pages.common import client, my_batches
from genlens.worker.client import BATCH

REFRESH_SECONDS = 2.0

st.title("Monitor batches")
everyone = st.toggle("show every batch (not only this session's)", value=False)


@st.fragment(run_every=REFRESH_SECONDS)
def batches() -> None:
    """One progress bar per batch, with a cancel button while it runs."""
    jobs = client()
    shown = (
        jobs.list(limit=20, kind=BATCH)
        if everyone
        else [jobs.status(batch_id) for batch_id in my_batches()]
    )
    if not shown:
        st.info("No batches yet: submit one on 'Submit a batch'.")
        return
    for status in shown:
        size = f", {status.children} jobs" if status.kind == BATCH else ""
        text = f"{status.kind} {status.id[:8]}: {status.status}{size}"
        left, right = st.columns([5, 1])
        left.progress(min(max(status.progress, 0.0), 1.0), text=text)
        if not status.done and right.button("Cancel", key=f"cancel-{status.id}"):
            jobs.cancel(status.id)
            st.rerun(scope="fragment")
    st.dataframe(job_rows(shown), hide_index=True)


batches()
