"""Captum baselines, RISE and a short FIDO run on EfficientNet-Lite0 at 224."""

import json

import pytest
import torch

from genlens.core.data import sample_image
from genlens.core.saliency import explain

FAST_PARAMS = {
    "gradient": {},
    "input-x-gradient": {},
    "integrated-gradients": {"steps": 4},
    "smoothgrad": {"samples": 2, "batch": 4},
    "grad-cam": {},
    "occlusion": {"window": 112, "stride": 112, "batch": 8},
    "rise": {"samples": 8, "batch": 16},
    "fido-ssr": {"steps": 2, "samples": 2},
    "bbmp-sdr": {"steps": 2},
}


@pytest.fixture(scope="module")
def photos(lite0) -> torch.Tensor:
    return lite0.prepare([sample_image("chelsea"), sample_image("coffee")])


@pytest.mark.parametrize("method", list(FAST_PARAMS))
def test_maps_for_efficientnet_lite0(method, lite0, photos):
    result = explain(lite0, photos, method=method, **FAST_PARAMS[method])
    assert result.maps.shape == (2, 224, 224)
    assert result.maps.dtype == torch.float32
    assert torch.isfinite(result.maps).all()
    assert (result.maps.flatten(1).std(dim=1) > 0).all()  # not a constant map
    assert result.counterfactuals.shape == (2, 3, 224, 224)
    assert result.target.tolist() == lite0.predict(photos).argmax(dim=1).tolist()
    json.dumps(result.params)


def test_grad_cam_uses_the_last_conv_block(lite0, photos):
    assert lite0.spatial_layer() == "conv_head"
    result = explain(lite0, photos[:1], method="grad-cam", target=281)
    assert result.params["layer"] == "conv_head"
    assert result.maps.min() >= 0  # ReLU'd Grad-CAM
    assert result.target_labels == [lite0.labels[281]]


def test_grad_cam_matches_a_direct_computation(lite0, photos):
    """Grad-CAM against hooks on the full graph (input requiring a gradient):
    ReLU(sum_c mean_hw(dy/dA_c) * A_c), bilinearly upsampled."""
    layer = lite0.layer("conv_head")
    saved = {}
    handle = layer.register_forward_hook(lambda _m, _i, output: saved.update(a=output))
    try:
        logits = lite0(photos.clone().requires_grad_(True))
    finally:
        handle.remove()
    target = logits.argmax(dim=1)
    (grads,) = torch.autograd.grad(logits.gather(1, target[:, None]).sum(), saved["a"])
    weights = grads.mean(dim=(2, 3), keepdim=True)
    cam = (weights * saved["a"]).sum(dim=1, keepdim=True).clamp_min(0)
    expected = torch.nn.functional.interpolate(cam, size=(224, 224), mode="bilinear")[:, 0]
    result = explain(lite0, photos, method="grad-cam", target=target)
    torch.testing.assert_close(result.maps, expected.detach(), atol=1e-5, rtol=1e-4)
