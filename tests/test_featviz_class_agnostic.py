"""Class-agnostic feature visualization (Stergiou et al.) with the original's bugs fixed."""

import math

import numpy as np
import pytest
import torch
from featviz_helpers import tiny_classifier

from genlens.core.errors import ParameterError
from genlens.core.featviz import Octave, class_agnostic, find_facets
from genlens.core.featviz.class_agnostic import gaussian_blur, inverse_distance_weights, radial_mask
from genlens.core.models import hook_count


def _image_set(count: int = 12, size: int = 32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    base = torch.rand(3, 3, 1, 1, generator=generator)  # three colour groups
    noise = 0.15 * torch.rand(count, 3, size, size, generator=generator)
    return (base[torch.arange(count) % 3] + noise).clamp(0, 1)


def test_facet_members_are_the_nearest_images():
    pooled = torch.randn(30, 16, generator=torch.Generator().manual_seed(1))
    facets = find_facets(pooled, clusters=3, per_facet=5, top_channels=4, seed=0)
    for k, centre in enumerate(facets.centres):
        brute = sorted(
            range(30),
            key=lambda i: math.dist(facets.embedding[i].tolist(), centre.tolist()),
        )[:5]
        assert facets.members[k].tolist() == brute
        farthest = max(math.dist(facets.embedding[i].tolist(), centre.tolist()) for i in range(30))
        assert facets.distances[k].max() < farthest
    assert np.allclose(facets.weights.sum(1), 1.0)
    expected = torch.einsum(
        "j,jc->c", torch.from_numpy(facets.weights[0]).float(), pooled[facets.members[0]]
    )
    assert torch.allclose(facets.targets[0], expected, atol=1e-5)
    assert facets.channels.shape == (3, 4)
    assert set(facets.channels[0].tolist()) == set(facets.targets[0].topk(4).indices.tolist())


def test_tsne_embedding_and_weights():
    pooled = torch.randn(12, 8, generator=torch.Generator().manual_seed(2))
    facets = find_facets(pooled, clusters=2, per_facet=3, top_channels=2, embedding="tsne")
    assert facets.embedding.shape == (12, 2) and facets.members.shape == (2, 3)
    weights = inverse_distance_weights(np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]))
    assert weights[0, 0] == pytest.approx(1.0) and np.allclose(weights[1], 1 / 3)


def test_loss_decreases_and_images_stay_valid():
    model = tiny_classifier(size=32)
    images = _image_set()
    octave = Octave(steps=30, window_step=10, brightness_step=20)
    result = class_agnostic(
        model,
        images,
        layer="conv2",
        penalty_layer="conv2",
        clusters=3,
        per_facet=4,
        top_channels=5,
        octaves=[octave],
        seed=0,
    )
    loss = result.extras["loss"]
    assert result.images.shape == (3, 3, 32, 32)
    assert float(result.images.min()) >= 0 and float(result.images.max()) <= 1
    assert float(loss[-5:].mean()) < float(loss[:5].mean())
    assert bool((result.trace[-5:].mean(0) > result.trace[:3].mean(0)).all())
    assert result.extras["initial"].shape == (3, 3, 32, 32)
    assert result.extras["reference_scores"].shape == (12, 3)
    assert len(result.params["members"]) == 3 and result.params["octaves"][0]["steps"] == 30
    assert hook_count(model) == 0


def test_two_octaves_one_run_and_hooks_on_error():
    model = tiny_classifier(channels=1, size=24)
    images = _image_set(9, 24).mean(1, keepdim=True)
    octaves = [Octave(steps=3, scale=1.0), Octave(steps=2, scale=1.5, blur_every=2)]
    result = class_agnostic(
        model, images, layer="conv2", clusters=2, per_facet=3, top_channels=3, octaves=octaves
    )
    assert result.trace.shape == (5, 2) and result.images.shape == (2, 1, 24, 24)

    def stop(done: int, total: int) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        class_agnostic(
            model,
            images,
            layer="conv2",
            penalty_layer="fc",
            clusters=2,
            per_facet=2,
            top_channels=2,
            octaves=[Octave(steps=4)],
            progress=stop,
        )
    assert hook_count(model) == 0


def test_vectorized_mask_and_blur():
    mask = radial_mask((65, 65), sigma=30)
    assert float(mask[32, 33]) == pytest.approx(1.0) and float(mask.min()) == pytest.approx(0.0)
    # effective Gaussian std is sigma / 6: at r = 1 + sigma/6 the mask is about exp(-1/2)
    assert float(mask[32, 32 + 6]) == pytest.approx(math.exp(-0.5 * (5 / 5) ** 2), abs=0.05)
    flat = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(gaussian_blur(flat, 1.5), flat, atol=1e-6)


def test_class_agnostic_bad_parameters():
    model = tiny_classifier()
    images = _image_set()
    with pytest.raises(ParameterError, match="clusters must be between"):
        class_agnostic(model, images, layer="conv2", clusters=20)
    with pytest.raises(ParameterError, match="top_channels"):
        class_agnostic(model, images, layer="conv2", clusters=2, per_facet=2, top_channels=99)
    with pytest.raises(ParameterError, match="unknown embedding"):
        find_facets(torch.randn(6, 4), clusters=2, per_facet=2, top_channels=2, embedding="umap")
    with pytest.raises(ParameterError, match="scale must be >= 1"):
        Octave(scale=0.5)
    with pytest.raises(ParameterError, match="expects images of shape"):
        class_agnostic(model, images[:, :1], layer="conv2")
