"""The catalog and the one namespace: a fresh interpreter sees every built-in name from any
registry with no other import; names are listed without importing model code; the explicit
package list of pyproject.toml names every package folder; a wheel installs one top-level
package, ``genlens``."""

import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from servers import REPO

from genlens.core.registries import CLASSIFIERS, INFILLERS, METHODS, PRIORS
from genlens.evaluation.registries import METRICS, SUITES
from genlens.worker.kinds import KINDS

HEAVY = ("torch", "torchvision", "timm", "captum", "gradio", "celery", "matplotlib")

# registry module, registry name, built-ins a fresh interpreter must see
REGISTRIES = [
    (
        "genlens.core.registries",
        "CLASSIFIERS",
        {"efficientnet_lite0", "fmnist-cnn", "blockfashion-cnn"},
    ),
    ("genlens.core.registries", "METHODS", {"fido-ssr", "grad-cam", "rise", "random", "sobel"}),
    (
        "genlens.core.registries",
        "INFILLERS",
        {"local-mean", "learned", "learned-blockfashion", "oracle-blocks"},
    ),
    (
        "genlens.core.registries",
        "PRIORS",
        {"dcgan_faces", "fmnist-deepsim", "blockfashion-deepsim"},
    ),
    ("genlens.evaluation.registries", "METRICS", {"deletion", "pointing-game", "relevance-mass"}),
    (
        "genlens.evaluation.registries",
        "SUITES",
        {"imagenet-photos", "blockfashion-gt", "fmnist", "oracle-blocks"},
    ),
    ("genlens.worker.kinds", "KINDS", {"explain", "visualize", "benchmark", "train", "generate"}),
]


def _fresh(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd="/"
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(("module", "registry", "expected"), REGISTRIES, ids=lambda v: str(v)[:20])
def test_a_fresh_interpreter_sees_the_builtins(module: str, registry: str, expected: set) -> None:
    out = _fresh(
        f"import json, sys\nfrom {module} import {registry}\n"
        f"print(json.dumps([{registry}.names(), [m for m in {HEAVY!r} if m in sys.modules]]))"
    )
    names, heavy = json.loads(out)
    assert expected <= set(names)
    assert heavy == []  # listing names imports no model code


def test_every_entry_resolves_to_an_item_of_its_name() -> None:
    for registry in (METHODS, METRICS, SUITES, KINDS):
        for name in registry.names():
            assert registry.get(name).name == name
    for registry in (INFILLERS, PRIORS):
        assert all(callable(registry.get(name)) for name in registry.names())
    assert all(CLASSIFIERS.get(name).name == name for name in CLASSIFIERS.names())


def test_explain_a_plain_torchvision_module_with_a_learned_infiller() -> None:
    """The issue's acceptance call, in a fresh interpreter with no other genlens import."""
    out = _fresh(
        "import torch, torchvision\n"
        "from genlens.core.saliency import explain\n"
        "torch.manual_seed(0)\n"
        "net = torchvision.models.resnet18(num_classes=10)\n"
        "net.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)\n"
        "net.train()\n"
        "images = torch.rand(2, 1, 64, 64)\n"
        "result = explain(net, images, method='fido-ssr', infill='learned-blockfashion',\n"
        "                 steps=3, samples=2)\n"
        "print(tuple(result.maps.shape), result.params['infill'], net.training,\n"
        "      all(p.requires_grad for p in net.parameters()))\n"
    )
    assert out.split() == ["(2,", "64,", "64)", "learned-blockfashion", "True", "True"]


def _packages() -> set[str]:
    roots = ("core", "evaluation", "db", "worker", "demo")
    found = {"genlens"}
    for root in roots:
        for init in (REPO / root).rglob("__init__.py"):
            found.add(".".join(["genlens", *init.parent.relative_to(REPO).parts]))
    return found


def test_pyproject_lists_every_package_folder() -> None:
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"genlens": "."}
    assert set(setuptools["packages"]) == _packages()


def test_the_wheel_has_one_top_level_package(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("genlens-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (top_level,) = [name for name in names if name.endswith(".dist-info/top_level.txt")]
        assert archive.read(top_level).decode().split() == ["genlens"]
    assert {name.split("/")[0] for name in names if not name.startswith("genlens-")} == {"genlens"}
    for shipped in (
        "genlens/catalog.py",
        "genlens/core/zoo/fmnist-cnn/model.safetensors",
        "genlens/demo/leaderboard-data/blockfashion-gt.json",
        "genlens/db/migrations/script.py.mako",
    ):
        assert shipped in names
    assert not [name for name in names if name.startswith(("genlens/tests/", "genlens/bench/"))]
