"""The ``generate`` job kind on the shipped Fashion-MNIST conditional generator, executed
in-process (no Celery) on SQLite and a real PostgreSQL."""

import pytest
from PIL import Image

from genlens.core.errors import GenlensError
from genlens.core.generative.conditional.api import load_conditional, resolve_reference
from genlens.worker.client import JobClient
from genlens.worker.context import Runtime
from genlens.worker.execute import execute

pytest_plugins = ["service_fixtures"]


def test_traversal_job_writes_grid_and_columns(runtime: Runtime, client: JobClient) -> None:
    job_id = client.submit(
        {
            "kind": "generate",
            "model": "fmnist-conditional",
            "image": "fmnist:test:3",
            "traverse": [1, 2],
            "quantiles": [10, 90],
        }
    )
    assert execute(runtime, job_id, "w:1") == "succeeded"
    outcome = client.result(job_id)
    labels = [column["label"] for column in outcome.result["columns"]]
    assert labels == ["pc1@q10", "pc1@q90", "pc2@q10", "pc2@q90", "reconstruction"]
    outputs = sorted((a for a in outcome.artifacts if a.role == "output"), key=lambda a: a.name)
    assert len(outputs) == 5
    grid = next(a for a in outcome.artifacts if a.role == "grid")
    with Image.open(grid.path) as picture:
        assert picture.width > picture.height  # one row: real | 5 columns
    with Image.open(outputs[0].path) as picture:
        assert picture.size == (32, 32)


def test_target_image_job_borrows_the_targets_class(runtime: Runtime, client: JobClient) -> None:
    model = load_conditional("fmnist-conditional", device="cpu")
    source, target = "fmnist:test:0", "fmnist:test:1"  # ankle boot, pullover
    target_class = model.classifier.labels[
        int(model.probabilities(model.prepare([resolve_reference(target)])).argmax())
    ]
    job_id = client.submit(
        {"kind": "generate", "model": "fmnist-conditional", "image": source, "target_image": target}
    )
    assert execute(runtime, job_id, "w:1") == "succeeded"
    result = client.result(job_id).result
    assert result["input_class"] != target_class
    assert [c["label"] for c in result["columns"]] == ["target 1", "reconstruction"]
    assert result["columns"][0]["class"] == target_class
    assert result["columns"][1]["class"] == result["input_class"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"model": "nope"}, "unknown conditional model"),
        ({"traverse": [0]}, "traverse must be 1 to 16 component numbers"),
        ({"traverse": [1.5]}, "component numbers"),
        ({"quantiles": [100]}, "quantiles must be"),
        ({"image": "fmnist:test:99999999"}, "out of range"),
        ({"image": "sample:nope"}, "nope"),
        ({"steps": 3}, "unknown field"),
    ],
)
def test_bad_generate_specs_are_rejected_at_submit(client: JobClient, spec, message) -> None:
    with pytest.raises(GenlensError, match=message):
        client.submit({"kind": "generate", "image": "fmnist:test:0", **spec})
    assert client.count() == 0
