"""Forward batches from the execution policy: the heavy paths chunk their forward passes by
``ExecutionPolicy.batch_pixels`` and give the same maps for any chunk size."""

import platform

import pytest
import torch
from torch import nn

from genlens.core.device import reuse_freed_memory
from genlens.core.errors import ParameterError
from genlens.core.models import Classifier, ExecutionPolicy, Preprocessing
from genlens.core.saliency import explain

SIZE = 32


class CountingNet(nn.Module):
    """A small seeded CNN with batch norm (eval mode) that counts its forward passes."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.Conv2d(8, 8, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
            nn.Linear(32, 3),
        )
        with torch.no_grad():
            self.body[1].running_mean.uniform_(-0.2, 0.2)
            self.body[1].running_var.uniform_(0.5, 2.0)
        self.sizes: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.sizes.append(x.shape[0])
        return self.body(x)


def classifier(batch_pixels: int | None) -> Classifier:
    preprocessing = Preprocessing((SIZE, SIZE), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), crop_pct=1.0)
    built = Classifier("counting", CountingNet(), preprocessing, ["a", "b", "c"])
    return built.apply_policy(ExecutionPolicy(batch_pixels=batch_pixels))


@pytest.fixture
def images() -> torch.Tensor:
    return torch.rand(3, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))


def test_policy_forward_batch_follows_the_device_and_image_size() -> None:
    policy = ExecutionPolicy()
    assert policy.forward_batch(torch.device("cpu"), (224, 224)) == 16
    assert policy.forward_batch(torch.device("cpu"), (64, 64)) == 196
    assert policy.forward_batch(torch.device("cuda"), (224, 224)) == 256
    assert ExecutionPolicy(batch_pixels=100).forward_batch(torch.device("cpu"), (224, 224)) == 1
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ParameterError, match="batch_pixels"):
            ExecutionPolicy(batch_pixels=bad)


@pytest.mark.parametrize("method", ["fido-ssr", "bbmp-sdr"])
def test_mask_steps_run_in_policy_chunks_with_the_same_maps(method, images) -> None:
    whole, chunked = classifier(None), classifier(5 * SIZE * SIZE)
    params = {"method": method, "steps": 4, "samples": 4, "seed": 2, "infill": "local-mean"}
    expected = explain(whole, images, **params).maps
    chunked.net.sizes.clear()
    maps = explain(chunked, images, **params).maps
    torch.testing.assert_close(maps, expected, rtol=0, atol=1e-6)
    # 3 images x 4 samples = 12 masked images per step, in forward passes of at most 5
    assert max(chunked.net.sizes) == 5 and chunked.net.sizes.count(2) >= 4


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("rise", {"samples": 40}),
        ("occlusion", {"window": 8, "stride": 8}),
        ("integrated-gradients", {"steps": 12}),
    ],
)
def test_sampling_and_gradient_methods_do_not_depend_on_the_batch(method, params, images):
    reference = explain(classifier(None), images, method=method, seed=4, **params).maps
    for batch in (1, 7):
        maps = explain(classifier(None), images, method=method, seed=4, batch=batch, **params)
        torch.testing.assert_close(maps.maps, reference, rtol=1e-5, atol=1e-6)
    policy_chunked = explain(classifier(3 * SIZE * SIZE), images, method=method, seed=4, **params)
    torch.testing.assert_close(policy_chunked.maps, reference, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_allocator_keeps_freed_memory_on_glibc() -> None:
    assert reuse_freed_memory() is True
