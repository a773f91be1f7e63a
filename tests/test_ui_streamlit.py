"""The Streamlit app with ``streamlit.testing.v1.AppTest`` against a real worker on the embedded
broker: every page renders; a zip of images x methods is submitted as one batch, its progress
is shown until it finishes, and its results appear side by side per image."""

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
import torch
import torchvision
from folder_suite_helpers import build_suite
from safetensors.torch import save
from servers import Deployment, wait_for
from streamlit.testing.v1 import AppTest
from ui_helpers import UPLOAD_LIMIT

from genlens.core.data import sample_image
from genlens.demo.leaderboards import shipped_rows
from genlens.demo.streamlit_pages.common import (
    BATCHES,
    BENCHMARK_KEY,
    UPLOADED,
    WEIGHTS_UPLOAD,
)
from genlens.evaluation.suites.archive import pack_suite

pytest_plugins = ["ui_fixtures"]

APP = str(Path(__file__).resolve().parent.parent / "demo" / "streamlit_app.py")
PAGES = {
    "streamlit_pages/submit_batch.py": "Submit a batch",
    "streamlit_pages/monitor.py": "Monitor batches",
    "streamlit_pages/results.py": "Results per image",
    "streamlit_pages/leaderboard.py": "Leaderboard",
    "streamlit_pages/models.py": "Model cards",
}
TIMEOUT = 60


@pytest.fixture
def app(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The app (first page rendered) configured for ``deployment`` through the environment."""
    for key, value in deployment.env.items():
        if key.startswith("GENLENS_"):
            monkeypatch.setenv(key, value)
    return AppTest.from_file(APP, default_timeout=TIMEOUT).run()


def _zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            image = io.BytesIO()
            sample_image(name).resize((48, 48)).save(image, format="PNG")
            archive.writestr(f"photos/{name}.png", image.getvalue())
        archive.writestr("photos/readme.txt", "not an image")
    return buffer.getvalue()


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders(app: AppTest, page: str) -> None:
    app.switch_page(page).run()
    assert not app.exception
    assert app.title[0].value == PAGES[page]


def test_leaderboard_and_cards_show_content(app: AppTest) -> None:
    app.switch_page("streamlit_pages/leaderboard.py").run()
    table = app.dataframe[0].value
    committed = shipped_rows("blockfashion-gt")  # the first board while the database has none
    best = max(row.metrics["pointing-game"].value for row in committed)
    assert len(table) == len(committed)
    assert table["pointing-game ↑"].iloc[0].startswith(f"{best:.3f} [")  # best first
    app.switch_page("streamlit_pages/models.py").run()
    titles = [expander.label for expander in app.expander]
    assert "fmnist-cnn (classifier)" in titles and "fmnist-infiller (infiller)" in titles


def test_submit_monitor_and_browse_a_batch(app: AppTest, deployment: Deployment) -> None:
    app.file_uploader[0].set_value(("photos.zip", _zip(["coffee", "rocket"]), "application/zip"))
    app.selectbox[0].set_value("fmnist-cnn")
    app.selectbox[2].set_value("bf16")
    app.multiselect[1].set_value(["grad-cam", "gradient"])
    app.button[0].click().run()
    assert not app.exception and not app.error
    assert "2 images x 2 methods" in app.success[0].value
    [batch_id] = app.session_state[BATCHES]

    app.switch_page("streamlit_pages/monitor.py").run()
    assert app.progress and f"batch {batch_id[:8]}" in app.progress[0].proto.text

    def finished() -> bool:
        app.run()  # AppTest does not tick run_every fragments on its own
        return "succeeded" in app.progress[0].proto.text

    wait_for(finished, 120, "the batch to finish", interval=1.0)
    assert app.progress[0].value == 100
    assert deployment.client.status(batch_id).children == 4

    app.switch_page("streamlit_pages/results.py").run()
    assert not app.exception
    assert [header.value[:7] for header in app.subheader] == ["image 1", "image 2"]
    assert len(app.image) == 4
    labels = set(
        deployment.client.result(child).result["label"]
        for child in deployment.client.result(batch_id).children
    )
    assert {caption for image in app.image for caption in image.captions} == labels
    children = deployment.client.result(batch_id).children
    assert {deployment.client.result(child).result["precision"] for child in children} == {"bf16"}


@pytest.mark.slow  # ~2 min on 2 busy cores: the fmnist suite (64 images) with its metrics
def test_benchmark_rows_reach_the_leaderboard(app: AppTest, deployment: Deployment) -> None:
    app.selectbox[3].set_value("fmnist")
    app.multiselect[1].set_value(["centre"])
    app.button[2].click().run()
    assert not app.exception and not app.error
    [job_id] = app.session_state[BATCHES]
    assert deployment.client.wait(job_id, timeout=300).status == "succeeded"
    app.switch_page("streamlit_pages/leaderboard.py").run()
    app.selectbox[0].set_value("fmnist (database)").run()
    table = app.dataframe[0].value
    assert list(table["method"]) == ["centre"]
    stored = deployment.client.result(job_id).result["rows"][0]
    first = app.multiselect[0].value[0]
    assert table.iloc[0, 2].startswith(f"{stored[first]:.3f} [")


def test_a_folder_suite_upload_is_estimated_run_and_boarded(
    app: AppTest, deployment: Deployment, tmp_path: Path
) -> None:
    expected = build_suite(tmp_path / "suite")
    app.radio[0].set_value(UPLOADED).run()
    app.button[2].click().run()
    assert app.error[0].value == "upload a suite archive (zip) first"
    archive = pack_suite(tmp_path / "suite")
    app.file_uploader[2].set_value(("my-suite.zip", archive, "application/zip"))
    app.selectbox[3].set_value("fmnist-cnn")
    app.multiselect[1].set_value(["centre"])
    app.button[1].click().run(timeout=300)
    assert not app.exception and not app.error
    assert app.info[0].value.startswith(f"Estimate: folder:suite: {expected['images']} images")
    assert app.table[0].value["method"].tolist() == ["centre"]
    app.number_input[0].set_value(3).run()  # another sample: that estimate no longer holds
    assert not app.info
    assert any("estimate its cost again" in caption.value for caption in app.caption)
    app.number_input[0].set_value(0).run()
    assert app.info[0].value.startswith("Estimate: ")
    app.button[2].click().run()
    job_id = app.session_state[BENCHMARK_KEY]
    assert deployment.client.wait(job_id, timeout=300).status == "succeeded"
    app.run()
    board = app.table[-1].value
    assert board["method"].tolist() == ["centre"] and board["model"].tolist() == ["fmnist-cnn"]
    pointing = expected["pointing_class_mean"]
    assert board["pointing-game ↑"].iloc[0].startswith(f"{pointing:.3f} [")


def test_a_folder_suite_on_uploaded_weights(
    app: AppTest, deployment: Deployment, tmp_path: Path
) -> None:
    """An ImageFolder tree of shipped photos benchmarked on a user's seeded 3-class ResNet-18
    (safetensors upload, 64 px input): the board names the weights by architecture and hash."""
    for label, photo in (("cat", "coffee"), ("dog", "rocket"), ("bird", "astronaut")):
        (tmp_path / "photos" / label).mkdir(parents=True)
        sample_image(photo).resize((64, 64)).save(tmp_path / "photos" / label / f"{photo}.png")
    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=3)
    buffer = save({k: v.contiguous() for k, v in net.state_dict().items()})
    app.radio[0].set_value(UPLOADED).run()
    archive = pack_suite(tmp_path / "photos")
    app.file_uploader[2].set_value(("photos.zip", archive, "application/zip"))
    app.selectbox[3].set_value(WEIGHTS_UPLOAD).run()
    app.multiselect[1].set_value(["centre"])
    app.button[2].click().run()
    assert app.error[0].value == "upload the weights file first"
    app.file_uploader[3].set_value(("w.safetensors", buffer, "application/octet-stream"))
    app.text_input[1].set_value("cat, dog, bird")
    app.number_input[2].set_value(64)
    app.button[2].click().run()
    assert "give the architecture" in app.error[0].value
    app.text_input[0].set_value("resnet18")
    app.button[2].click().run()
    assert not app.error, [error.value for error in app.error]
    job_id = app.session_state[BENCHMARK_KEY]
    assert deployment.client.wait(job_id, timeout=300).status == "succeeded"
    app.run()
    board = app.table[-1].value
    digest = hashlib.sha256(buffer).hexdigest()[:12]
    assert board["model"].tolist() == [f"resnet18@{digest}"]
    assert board["images"].tolist() == [3]


def test_empty_batch_is_a_clear_error(app: AppTest) -> None:
    app.multiselect[0].set_value([])
    app.button[0].click().run()
    assert app.error[0].value == "a batch needs at least one image"


def test_bad_archives_are_clear_errors(app: AppTest) -> None:
    app.file_uploader[0].set_value(("photos.zip", b"PK not a zip", "application/zip"))
    app.button[0].click().run()
    assert app.error[0].value.startswith("not a zip archive")
    big = io.BytesIO()
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.png", b"\0" * (UPLOAD_LIMIT + 1))
    app.file_uploader[0].set_value(("bomb.zip", big.getvalue(), "application/zip"))
    app.button[0].click().run()
    expected = f"bomb.png: {UPLOAD_LIMIT + 1:,} bytes, upload limit {UPLOAD_LIMIT:,}"
    assert app.error[0].value == expected
