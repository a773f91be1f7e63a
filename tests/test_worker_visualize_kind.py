"""The ``visualize`` job kind with the two methods beyond pixel/Fourier: DGN-AM with a
generator prior and class-agnostic facets of an uploaded image set (in-process, both DBs)."""

import json
from pathlib import Path

from genlens.core.data import sample_image
from genlens.worker.client import JobClient
from genlens.worker.context import Runtime
from genlens.worker.execute import execute

pytest_plugins = ["service_fixtures"]


def test_dgn_job_writes_an_image_and_ratio_per_unit(runtime: Runtime, client: JobClient) -> None:
    job_id = client.submit(
        {
            "kind": "visualize",
            "model": "fmnist-cnn",
            "method": "dgn",
            "prior": "fmnist-deepsim",
            "units": [7, 9],
            "steps": 3,
        }
    )
    assert execute(runtime, job_id, "w:1") == "succeeded"
    outcome = client.result(job_id)
    assert outcome.result["units"] == ["7 Sneaker", "9 Ankle boot"]
    trace = json.loads(
        Path(next(a.path for a in outcome.artifacts if a.role == "trace")).read_text()
    )
    assert len(trace["activation_ratio"]["ratio"]) == 2
    assert trace["params"]["prior"] == "fmnist-deepsim"
    names = sorted(a.name for a in outcome.artifacts if a.role == "visualization")
    assert names == ["unit-7.png", "unit-9.png"]


def test_class_agnostic_job_on_uploaded_images(
    runtime: Runtime, client: JobClient, tmp_path: Path
) -> None:
    paths = []
    for name in ("chelsea", "coffee", "astronaut", "rocket"):
        path = tmp_path / f"{name}.png"
        sample_image(name).save(path)
        paths.append(str(path))
    job_id = client.submit(
        {
            "kind": "visualize",
            "method": "class-agnostic",
            "layer": "bn2",
            "images": paths,
            "clusters": 2,
            "steps": 2,
        }
    )
    assert execute(runtime, job_id, "w:1") == "succeeded"
    outcome = client.result(job_id)
    assert [name.split(":")[0] for name in outcome.result["units"]] == ["facet 0", "facet 1"]
    assert len(outcome.result["activation_ratio"]) == 2
    inputs = [a for a in outcome.artifacts if a.role == "input"]
    assert len(inputs) == 4  # the uploaded set is stored with the job
