"""Submit a batch: images (a zip archive, single files or the shipped photos) x saliency
methods, as one batch job whose children the workers run; or a benchmark suite x methods, as
one ``benchmark`` job whose rows join the leaderboard."""

import streamlit as st

from genlens.core.errors import GenlensError
from genlens.demo.choices import (
    has_kind,
    infiller_choices,
    method_choices,
    model_choices,
    precision_choices,
    sample_choices,
    suite_choices,
)
from genlens.demo.specs import batch_specs, benchmark_spec
from genlens.demo.streamlit_pages.common import client, remember_batch
from genlens.demo.uploads import images_in_zip

st.title("Submit a batch")
st.caption("Every image is explained with every chosen method; one job per pair.")

archive = st.file_uploader(
    "a zip archive of images (PNG, JPEG, WebP; folders are flattened)", type=["zip"]
)
files = st.file_uploader(
    "or image files", type=["png", "jpg", "jpeg", "webp"], accept_multiple_files=True
)
samples = st.multiselect("or shipped photos (the imagenet-photos suite)", sample_choices())
left, right = st.columns(2)
with left:
    model = st.selectbox("model", model_choices())
    methods = st.multiselect("methods", method_choices(), default=["grad-cam"])
with right:
    infill = st.selectbox("in-filler", infiller_choices())
    steps = st.slider(
        "steps (FIDO, BBMP, integrated gradients; 0 = each method's default)", 0, 300, 0, step=5
    )
    labels = dict((value, label) for label, value in precision_choices())
    precision = st.selectbox("precision", list(labels), format_func=labels.get)

if st.button("Submit batch", type="primary"):
    try:
        images: list[bytes | str] = []
        if archive is not None:
            images += [
                data
                for _, data in images_in_zip(archive.getvalue(), client().settings.max_upload_bytes)
            ]
        images += [file.getvalue() for file in files or []]
        images += [f"sample:{name}" for name in samples]
        specs = batch_specs(images, methods, model, infill, steps or None, precision=precision)
        batch_id = client().submit_batch(specs)
    except GenlensError as exc:
        st.error(str(exc))
    else:
        remember_batch(batch_id)
        st.success(
            f"batch {batch_id}: {len(specs)} jobs ({len(images)} images x "
            f"{len(methods)} methods). Follow it on 'Monitor batches'."
        )

st.subheader("Benchmark a suite")
st.caption(
    "Scores every chosen method on a benchmark suite (metrics with 95% intervals); the "
    "rows appear on the 'Leaderboard' page when the job finishes."
)
suite = st.selectbox("suite", suite_choices())
if st.button("Submit benchmark", disabled=not has_kind("benchmark")):
    try:
        job_id = client().submit(benchmark_spec(suite, methods, infill))
    except GenlensError as exc:
        st.error(str(exc))
    else:
        remember_batch(job_id)
        st.success(f"benchmark {job_id}: {suite} x {len(methods)} methods.")
