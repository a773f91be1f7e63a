"""The Gradio demo against a real worker on the embedded broker, driven with gradio_client:
explain, visualize and generate jobs return their images; invalid uploads (corrupt, oversized)
and bad parameters come back as clear errors; jobs can be inspected and cancelled; the optional
password login guards the API."""

import csv
from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AuthenticationError
from PIL import Image
from pydantic import SecretStr
from servers import Deployment, wait_for
from ui_helpers import UPLOAD_LIMIT, ThreadServer, sample_png

from genlens.demo.choices import SUITE_MODEL, infiller_choices
from genlens.worker.client import JobClient

pytest_plugins = ["ui_fixtures"]


@pytest.fixture(scope="module")
def client(gradio_url: str) -> Client:
    return Client(gradio_url, verbose=False)


def test_healthz(gradio_url: str) -> None:
    answer = httpx.get(f"{gradio_url}/healthz", timeout=30)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["ok"] is True and report["checks"]["database"]["ok"] is True


def test_explain_upload_returns_overlay(client: Client, tmp_path: Path) -> None:
    photo = sample_png(tmp_path)
    overlay, raw, counterfactuals, probabilities, summary, raw_file = client.predict(
        handle_file(str(photo)),
        None,
        "efficientnet_lite0",
        "grad-cam",
        "local-mean",
        10,
        api_name="/explain",
    )
    base = np.asarray(Image.open(overlay["image"]))
    assert base.shape == (224, 224, 3)
    masks = {a["label"]: np.asarray(Image.open(a["image"])) for a in overlay["annotations"]}
    assert list(masks) == ["top 10% (most salient)", "top 10-30%"]
    top, next_band = (masks[label][..., 3] > 0 for label in masks)
    assert top.mean() == pytest.approx(0.10, abs=1e-3)
    assert next_band.mean() == pytest.approx(0.20, abs=1e-3)
    assert not (top & next_band).any()
    saliency = np.load(raw_file, allow_pickle=False)
    assert saliency.shape == (224, 224)
    assert saliency[top].min() >= saliency[next_band].max() >= saliency[~(top | next_band)].max()
    grey = np.asarray(Image.open(raw).convert("L"), dtype=float) / 255
    span = saliency.max() - saliency.min()
    assert np.abs(grey - (saliency - saliency.min()) / span).max() <= 1 / 255 + 1e-6
    assert [item["caption"] for item in counterfactuals] == [
        "counterfactual (evidence removed)",
        "image | map | counterfactual",
    ]
    assert {c["label"] for c in probabilities["confidences"]} == {
        "original image",
        "evidence kept",
        "evidence removed",
    }
    assert "espresso" in summary or "coffee" in summary.lower()


def test_explain_sample(client: Client, deployment: Deployment) -> None:
    """The sample photo at the worker's precision (the menu's default) and in bf16."""
    answers = {}
    for precision in ("worker", "bf16"):
        *_, summary, raw_file = client.predict(
            None,
            "chelsea",
            "efficientnet_lite0",
            "grad-cam",
            "local-mean",
            10,
            precision,
            api_name="/explain",
        )
        assert "cat" in summary
        job_id = summary.split("job `")[1].split("`")[0]
        answers[precision] = deployment.client.result(job_id).result["precision"]
        answers[f"{precision} map"] = np.load(raw_file)
    assert answers["worker"] == "fp32" and answers["bf16"] == "bf16"
    assert answers["worker map"].shape == (224, 224)
    assert not np.array_equal(answers["worker map"], answers["bf16 map"])


def test_corrupt_upload_is_a_clear_error(client: Client, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)
    with pytest.raises(Exception, match="corrupt or truncated image") as caught:
        client.predict(
            handle_file(str(broken)),
            None,
            "efficientnet_lite0",
            "grad-cam",
            "local-mean",
            10,
            api_name="/explain",
        )
    assert "Traceback" not in str(caught.value)


def test_oversized_upload_is_refused(client: Client, tmp_path: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 255, (600, 600, 3), dtype=np.uint8)
    large = tmp_path / "large.png"
    Image.fromarray(noise).save(large)
    assert large.stat().st_size > UPLOAD_LIMIT
    with pytest.raises(Exception, match="maximum file size"):
        client.predict(
            handle_file(str(large)),
            None,
            "efficientnet_lite0",
            "grad-cam",
            "local-mean",
            10,
            api_name="/explain",
        )


def test_missing_image_and_bad_units_are_clear_errors(client: Client) -> None:
    with pytest.raises(Exception, match="upload an image or pick a sample"):
        client.predict(
            None, None, "efficientnet_lite0", "grad-cam", "local-mean", 10, api_name="/explain"
        )
    with pytest.raises(Exception, match="units: give integers"):
        client.predict(
            "efficientnet_lite0", "fourier", "logits", "cat", 8, None, [], 3, api_name="/visualize"
        )


def test_visualize_gallery_and_trace(client: Client) -> None:
    gallery, trace, scores, _ = client.predict(
        "fmnist-cnn", "pixel", "logits", "1, 7", 8, None, [], 3, api_name="/visualize"
    )
    assert [item["caption"] for item in gallery] == ["1 Trouser", "7 Sneaker"]
    assert sorted((row[0], row[2]) for row in trace["data"]) == sorted(
        (step, unit) for step in range(8) for unit in ("1 Trouser", "7 Sneaker")
    )
    assert [row[0] for row in scores["data"]] == ["1 Trouser", "7 Sneaker"]


def test_visualize_with_a_generator_prior(client: Client) -> None:
    gallery, _, scores, _ = client.predict(
        "fmnist-cnn", "dgn", "logits", "9", 2, "fmnist-deepsim", [], 3, api_name="/visualize"
    )
    assert [item["caption"] for item in gallery] == ["9 Ankle boot"]
    assert [row[0] for row in scores["data"]] == ["9 Ankle boot"]


def test_generate_traversal_grid(client: Client) -> None:
    grid, outputs, columns, summary = client.predict(
        "fmnist-conditional", None, "fmnist:test:0", [1], [10, 90], None, api_name="/generate"
    )
    assert "input classified as" in summary
    labels = [row[0] for row in columns["data"]]
    assert len(labels) == 3 and labels[-1] == "reconstruction"  # PC1 at 10%, 90%; reconstruction
    assert [item["caption"] for item in outputs] == [
        f"{index:02d}-{label}.png" for index, label in enumerate(labels)
    ]
    width, height = Image.open(grid).size
    assert width >= 4 * 32 and height >= 32


def test_generate_on_a_real_face_photo(client: Client) -> None:
    grid, _, columns, summary = client.predict(
        "faces-conditional", None, "faces:photo:astronaut", [1], [90], None, api_name="/generate"
    )
    assert "input classified as" in summary
    assert [row[0] for row in columns["data"]] == ["pc1@q90", "reconstruction"]
    assert Image.open(grid).size[0] >= 3 * 64


def test_jobs_details_and_cancel(client: Client, deployment: Deployment) -> None:
    job_id = deployment.client.submit(
        {"kind": "sleep", "steps": 400, "seconds": 0.05, "tag": "ui-cancel"}
    )
    wait_for(lambda: deployment.client.status(job_id).status == "running", 60, "sleep job")
    note, table = client.predict(job_id, False, api_name="/cancel")
    assert job_id in note
    assert job_id in [row[0] for row in table["data"]]
    assert deployment.client.wait(job_id, timeout=30).status == "cancelled"
    details, images = client.predict(job_id, api_name="/job")
    assert details["status"] == "cancelled" and images == []
    with pytest.raises(Exception, match="no job 'no-such-job'"):
        client.predict("no-such-job", api_name="/job")


def test_benchmark_a_registered_suite_on_two_models(client: Client, deployment: Deployment) -> None:
    form = ["blockfashion-gt", SUITE_MODEL, ["centre"], infiller_choices()[0], 4, 0]
    summary, costs = client.predict(*form, api_name="/estimate_benchmark")
    assert summary.startswith("Estimate: blockfashion-gt: 4 images")
    assert [row[0] for row in costs["data"]] == ["centre"]
    jobs = []
    for model in (SUITE_MODEL, "blockfashion-vit"):
        queued = client.predict(
            *[model if v == SUITE_MODEL else v for v in form], api_name="/run_benchmark"
        )
        jobs.append(queued.split()[1])
    assert all(deployment.client.wait(job, timeout=300).status == "succeeded" for job in jobs)
    *_, table, chosen, plot = client.predict(
        "blockfashion-gt (database)", None, "all", "centre", api_name="/leaderboard"
    )
    assert sorted(row[2] for row in table["data"]) == ["blockfashion-cnn", "blockfashion-vit"]
    assert {row[1] for row in table["data"]} == {"centre"} and Path(plot).is_file()
    *_, table, _, _ = client.predict(
        "blockfashion-gt (database)", chosen, "blockfashion-vit", "all", api_name="/leaderboard"
    )
    assert [row[2] for row in table["data"]] == ["blockfashion-vit"]
    files = client.predict(
        "blockfashion-gt (database)", chosen, "all", "centre", api_name="/export_leaderboard"
    )
    exported = {Path(file).name: Path(file) for file in files}
    assert sorted(exported) == ["leaderboard.csv", "leaderboard.html", "leaderboard.json"]
    with exported["leaderboard.csv"].open(newline="") as handle:
        models = sorted(line["model"] for line in csv.DictReader(handle))
    assert models == ["blockfashion-cnn", "blockfashion-vit"]
    assert exported["leaderboard.html"].read_text().count("data:image/png;base64,") >= 5


def test_password_login(deployment: Deployment) -> None:
    from genlens.demo.gradio_app import create_app

    settings = deployment.settings.model_copy(update={"ui_password": SecretStr("s3cret")})
    jobs = JobClient(settings)
    server = ThreadServer(create_app(jobs))
    try:
        with pytest.raises(AuthenticationError, match="credentials were not provided"):
            Client(server.url, verbose=False)
        with pytest.raises(ValueError, match="Could not login"):
            Client(server.url, auth=("genlens", "wrong"), verbose=False)
        logged_in = Client(server.url, auth=("genlens", "s3cret"), verbose=False)
        assert (
            "/explain"
            in logged_in.view_api(print_info=False, return_format="dict")["named_endpoints"]
        )
    finally:
        server.stop()
        jobs.close()
