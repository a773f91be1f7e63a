"""Results per image: for one batch, each input image with the methods side by side (overlay,
probability with the evidence kept and removed)."""

import streamlit as st

from genlens.demo.job_outputs import artifact_path
from genlens.demo.jobs import batch_children
from genlens.demo.streamlit_pages.common import client, my_batches
from genlens.worker.client import BATCH

st.title("Results per image")
jobs = client()
known = my_batches() + [s.id for s in jobs.list(limit=50, kind=BATCH) if s.id not in my_batches()]
if not known:
    st.info("No batches yet: submit one on 'Submit a batch'.")
    st.stop()
batch_id = st.selectbox(
    "batch",
    known,
    format_func=lambda job_id: job_id[:8] + (" (this session)" if job_id in my_batches() else ""),
)
children = batch_children(jobs, batch_id)
by_image: dict[str, list] = {}
for parameters, outcome in children:
    by_image.setdefault(parameters["image"], []).append((parameters, outcome))
st.caption(f"{len(children)} jobs on {len(by_image)} images")
for number, (image, runs) in enumerate(by_image.items(), 1):
    st.subheader(f"image {number}: {image.removeprefix('artifact:')[:16]}")
    for column, (parameters, outcome) in zip(st.columns(len(runs)), runs, strict=True):
        with column:
            st.markdown(f"**{parameters['method']}** ({parameters['model']})")
            overlay = artifact_path(outcome, "overlay")
            if outcome.status.status != "succeeded" or overlay is None:
                st.progress(
                    outcome.status.progress,
                    text=f"{outcome.status.status}: {outcome.status.error or ''}",
                )
                continue
            result = outcome.result or {}
            st.image(overlay, caption=result.get("label", ""))
            st.caption(
                f"p = {result['prob_original']:.3f} | kept {result['prob_kept']:.3f} | "
                f"removed {result['prob_removed']:.3f}"
            )
