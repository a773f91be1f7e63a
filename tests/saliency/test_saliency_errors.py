"""Bad input raises ParameterError before any forward pass."""

import math

import pytest
import torch

from genlens.core.errors import ParameterError
from genlens.core.params import Param
from genlens.core.registries import METHODS
from genlens.core.saliency import Method, explain, method_names, register_method
from genlens.core.saliency.problem import Problem


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "lime"}, "fido-ssr"),
        ({"infill": "inpaint"}, "local-mean"),
        ({"target": 3}, "out of range"),
        ({"target": -1}, "out of range"),
        ({"target": [1, 1]}, "2 entries for 1 images"),
        ({"target": 1.5}, "integer"),
        ({"steps": 0}, "steps"),
        ({"steps": -3}, "steps"),
        ({"steps": 2.5}, "integer"),
        ({"samples": 0}, "samples"),
        ({"reg": -1e-3}, "reg"),
        ({"reg": math.nan}, "finite"),
        ({"lr": math.inf}, "finite"),
        ({"tau": 0.0}, "> 0"),
        ({"steps": True}, "number"),
        ({"colour": 1}, "no parameter"),
        ({"method": "gradient", "steps": 10}, "no parameter"),
        ({"method": "grad-cam", "layer": "nope"}, "unknown layer"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_parameters(kwargs, message, patch_classifier, patch_images):
    with pytest.raises(ParameterError, match=message):
        explain(patch_classifier, patch_images[:1], **kwargs)
    assert patch_classifier.net.calls == 0


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (torch.rand(1, 3, 16, 16), "size"),
        (torch.rand(1, 1, 32, 32), "shape"),
        (torch.rand(3, 32, 32), "shape"),
        (torch.rand(1, 3, 32, 32) * 2, r"\[0, 1\]"),
        (torch.full((1, 3, 32, 32), math.nan), r"\[0, 1\]"),
        (torch.ones(1, 3, 32, 32, dtype=torch.uint8), "float"),
    ],
)
def test_bad_images(images, message, patch_classifier):
    with pytest.raises(ParameterError, match=message):
        explain(patch_classifier, images)
    assert patch_classifier.net.calls == 0


def test_registered_methods_run_through_explain(patch_classifier, patch_images):
    def constant(problem: Problem, params: dict) -> torch.Tensor:
        problem.progress(1, 1)
        return torch.full((problem.batch, *problem.size), params["level"])

    method = Method("constant-test", constant, {"level": Param(1.0, low=0.0)})
    register_method(method)
    try:
        assert "constant-test" in method_names()
        result = explain(patch_classifier, patch_images[:2], method="constant-test", level=2.0)
        assert torch.equal(result.maps, torch.full((2, 32, 32), 2.0))
        with pytest.raises(ParameterError, match="level"):
            explain(patch_classifier, patch_images[:1], method="constant-test", level=-1.0)
    finally:
        METHODS.remove("constant-test")
