"""Submit a batch: images (a zip archive, single files or the shipped photos) x saliency
methods, as one batch job whose children the workers run; or a benchmark suite (registered, or
a folder suite uploaded as a zip) x methods with any model and sample: its cost estimated on a
worker first, then one ``benchmark`` job whose rows join the leaderboard and show here."""

import hashlib
from pathlib import Path

import streamlit as st

from genlens.core.errors import GenlensError, ParameterError
from genlens.demo.choices import (
    ESTIMATE,
    benchmark_model,
    benchmark_model_choices,
    has_kind,
    infiller_choices,
    method_choices,
    model_choices,
    precision_choices,
    sample_choices,
    suite_choices,
)
from genlens.demo.job_outputs import estimate_summary, estimate_table
from genlens.demo.leaderboards import leaderboard_table, metric_names, stored_rows
from genlens.demo.specs import batch_specs, benchmark_spec
from genlens.demo.streamlit_pages.common import (
    BENCHMARK_KEY,
    ESTIMATE_KEY,
    REGISTERED,
    UPLOADED,
    WEIGHTS_UPLOAD,
    client,
    remember_batch,
)
from genlens.demo.uploads import images_in_zip, uploaded_weights

ESTIMATE_TIMEOUT = 600.0  # seconds the page waits for an estimate (one batch per method)
REFRESH_SECONDS = 2.0

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
    "Scores every chosen method (above) on a benchmark suite: metrics with 95% intervals. "
    "Estimate the cost first: a FIDO benchmark of 1,000 images takes hours. The rows join the "
    "'Leaderboard' page when the job finishes."
)
source = st.radio("suite source", [REGISTERED, UPLOADED], horizontal=True)
suite: str | bytes | None
suite_name = None
if source == REGISTERED:
    suite = st.selectbox("registered suite", suite_choices())
else:
    upload = st.file_uploader(
        "a zip of a suite folder: manifest.csv, manifest.json or LABEL/IMAGE files, with PNG "
        "masks, VOC or COCO boxes (docs/folder-suites.md)",
        type=["zip"],
        key="suite-archive",
    )
    suite = None if upload is None else upload.getvalue()
    suite_name = None if upload is None else Path(upload.name).stem
first, second, third = st.columns(3)
with first:
    bench_model = st.selectbox("benchmark model", [*benchmark_model_choices(), WEIGHTS_UPLOAD])
with second:
    limit = st.number_input("images (0 = the whole suite)", min_value=0, value=0, step=1)
with third:
    seed = st.number_input("sample seed", min_value=0, value=0, step=1)
weights = None
if bench_model == WEIGHTS_UPLOAD:
    weights = st.file_uploader(
        "weights file (safetensors or a PyTorch state dict)",
        type=["safetensors", "pt", "pth", "bin"],
        key="benchmark-weights",
    )
    left, middle, right = st.columns(3)
    arch = left.text_input("architecture (timm or torchvision name)", placeholder="resnet18")
    weight_labels = middle.text_input("class names, comma-separated (optional)")
    input_side = right.number_input("input side in pixels (0 = 224)", min_value=0, value=0)


def form_inputs() -> tuple:
    """Everything in the benchmark form that changes its cost (an estimate is shown only for
    the inputs it was made for)."""
    weight_inputs = None
    if weights is not None:
        weight_inputs = (hashlib.sha256(weights.getvalue()).hexdigest(), arch, int(input_side))
    archive_digest = hashlib.sha256(suite).hexdigest() if isinstance(suite, bytes) else suite
    return archive_digest, tuple(methods), infill, bench_model, int(limit), int(seed), weight_inputs


def submit_benchmark(estimate: bool) -> str:
    """Submit the form's benchmark (or estimate) job; its id."""
    if suite is None:
        raise ParameterError("upload a suite archive (zip) first")
    fields = (suite, methods, infill)
    sample = (int(limit) or None, int(seed), suite_name)
    if bench_model != WEIGHTS_UPLOAD:
        model = benchmark_model(bench_model)
        return client().submit(benchmark_spec(*fields, model, *sample, estimate=estimate))
    if weights is None:
        raise ParameterError("upload the weights file first")
    with uploaded_weights(
        weights.getvalue(), weights.name, arch, weight_labels, int(input_side)
    ) as model:
        return client().submit(benchmark_spec(*fields, model, *sample, estimate=estimate))


available = has_kind("benchmark") and has_kind(ESTIMATE)
estimate_button, submit_button = st.columns(2)
if estimate_button.button("Estimate cost", disabled=not available):
    try:
        estimate_id = submit_benchmark(estimate=True)
        with st.spinner("probing one batch on a worker..."):
            finished = client().wait(estimate_id, timeout=ESTIMATE_TIMEOUT)
    except (GenlensError, TimeoutError) as exc:
        st.error(str(exc))
    else:
        if finished.status == "succeeded":
            st.session_state[ESTIMATE_KEY] = (form_inputs(), client().result(estimate_id).result)
        else:
            st.error(f"estimate {finished.status}: {finished.error}")
if ESTIMATE_KEY in st.session_state:
    estimated_inputs, estimate = st.session_state[ESTIMATE_KEY]
    if estimated_inputs == form_inputs():
        st.info(f"Estimate: {estimate_summary(estimate)}")
        st.table(estimate_table(estimate))
    else:
        st.caption("The form changed since the last estimate: estimate its cost again.")
if submit_button.button("Submit benchmark", type="primary", disabled=not available):
    try:
        job_id = submit_benchmark(estimate=False)
    except GenlensError as exc:
        st.error(str(exc))
    else:
        remember_batch(job_id)
        st.session_state[BENCHMARK_KEY] = job_id
        st.success(f"benchmark {job_id}: {len(methods)} methods.")


@st.fragment(run_every=REFRESH_SECONDS)
def last_benchmark() -> None:
    """The progress of this session's last benchmark, then its suite's board."""
    job_id = st.session_state.get(BENCHMARK_KEY)
    if job_id is None:
        return
    status = client().status(job_id)
    text = f"benchmark {job_id[:8]}: {status.status}"
    st.progress(min(max(status.progress, 0.0), 1.0), text=text)
    if status.status == "failed":
        st.error(status.error)
    if status.status != "succeeded":
        return
    suite_shown = client().result(job_id).result["suite"]
    rows = stored_rows(client(), suite_shown)
    st.markdown(f"**{suite_shown} leaderboard** (mean [95% bootstrap interval], best first)")
    st.table(leaderboard_table(rows, metric_names(rows)))


last_benchmark()
