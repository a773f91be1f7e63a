"""The execution policy: the fp32 default (channels_last) keeps EfficientNet-Lite0's logits
within 1e-4 of eager NCHW fp32 on the shipped photos; bf16 keeps the top-1 class, the
deletion/insertion AUC within 0.01 and Spearman >= 0.95 between its maps and fp32's for
FIDO, Grad-CAM and integrated gradients at fixed seeds; a wrapped module keeps its layout."""

import warnings
from collections.abc import Iterator

import pytest
import torch
import torchvision
from scipy.stats import spearmanr
from torch import nn

from genlens.core import device
from genlens.core.data import sample_image
from genlens.core.errors import ParameterError
from genlens.core.models import Classifier, ExecutionPolicy, ModelSpec, Preprocessing
from genlens.core.saliency import explain
from genlens.evaluation.metrics import perturbation_curve

PHOTOS = ("chelsea", "coffee", "camera", "rocket", "flower", "china", "motorcycle", "astronaut")
EAGER = ExecutionPolicy(channels_last=False)


@pytest.fixture
def policy_of(lite0: Classifier) -> Iterator:
    """Switch the session's Lite0 to a policy; restore the default afterwards."""

    def use(policy: ExecutionPolicy) -> Classifier:
        return lite0.apply_policy(policy)

    yield use
    lite0.apply_policy(ExecutionPolicy())


@pytest.fixture(scope="module")
def photos(lite0: Classifier) -> torch.Tensor:
    return lite0.prepare([sample_image(name) for name in PHOTOS])


def test_fp32_default_matches_eager_nchw(lite0, photos, policy_of) -> None:
    assert lite0.policy == ExecutionPolicy()  # loaded models run channels_last fp32
    assert lite0.net.conv_stem.weight.is_contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        fast = lite0(photos)
        eager = policy_of(EAGER)(photos)
    assert (fast - eager).abs().max() < 1e-4
    assert not lite0.net.conv_stem.weight.is_contiguous(memory_format=torch.channels_last)


def _aucs(classifier: Classifier, images: torch.Tensor, maps, target) -> list[float]:
    """Mean deletion and insertion AUC (the leaderboard's numbers), 32 steps per curve."""
    return [
        float(
            perturbation_curve(classifier, images, maps, target, d, pixels_per_step=1568).auc.mean()
        )
        for d in ("deletion", "insertion")
    ]


def test_bf16_keeps_top1_and_deletion_insertion(lite0, photos, policy_of) -> None:
    maps = explain(lite0, photos[:4], method="grad-cam").maps
    target = lite0.predict(photos[:4]).argmax(dim=1)
    fp32 = _aucs(lite0, photos[:4], maps, target)
    with torch.no_grad():
        top_fp32 = lite0(photos).argmax(dim=1)
    bf16 = policy_of(ExecutionPolicy("bf16"))
    with torch.no_grad():
        logits = bf16(photos)
    assert logits.dtype == torch.float32
    assert torch.equal(logits.argmax(dim=1), top_fp32)
    assert (
        max(abs(a - b) for a, b in zip(fp32, _aucs(bf16, photos[:4], maps, target), strict=True))
        < 0.01
    )


def _rho(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(spearmanr(a.flatten().numpy(), b.flatten().numpy()).statistic)


def test_bf16_maps_agree_with_fp32(lite0, photos, policy_of) -> None:
    """Grad-CAM: Spearman >= 0.95. Pixel-gradient methods (IG, gradient, SmoothGrad) run in
    fp32 on a bf16 classifier, so their maps are fp32's. FIDO at a fixed seed moves less
    under bf16 than under a change of seed in fp32 (its own sampling noise)."""
    image = photos[:1]
    fido = {"method": "fido-ssr", "steps": 12, "samples": 4}
    fp32 = {
        "grad-cam": explain(lite0, image, method="grad-cam").maps,
        "integrated-gradients": explain(lite0, image, method="integrated-gradients", steps=8).maps,
        "fido": explain(lite0, image, seed=3, **fido).maps,
        "fido other seed": explain(lite0, image, seed=4, **fido).maps,
    }
    bf16 = policy_of(ExecutionPolicy("bf16"))
    assert _rho(fp32["grad-cam"], explain(bf16, image, method="grad-cam").maps) >= 0.95
    ig = explain(bf16, image, method="integrated-gradients", steps=8).maps
    torch.testing.assert_close(ig, fp32["integrated-gradients"])
    fido_bf16 = explain(bf16, image, seed=3, **fido).maps
    assert _rho(fp32["fido"], fido_bf16) > _rho(fp32["fido"], fp32["fido other seed"])
    assert bf16.policy.precision == "bf16"  # running_in restored the policy


def test_wrapped_modules_keep_their_layout_and_specs_carry_the_precision() -> None:
    module = torchvision.models.resnet18(num_classes=3)
    wrapped = Classifier.wrap(module, (64, 64))
    assert wrapped.policy == ExecutionPolicy(channels_last=False)
    explain(module, torch.rand(1, 3, 64, 64), method="gradient")
    assert module.conv1.weight.is_contiguous()
    assert ModelSpec.parse("fmnist-cnn", precision="bf16").load("cpu").policy.precision == "bf16"
    with pytest.raises(ParameterError, match="precision must be one of fp32, bf16"):
        ExecutionPolicy("fp16")


@pytest.mark.parametrize("native", [False, True])
def test_bf16_warns_once_where_the_device_has_no_native_kernels(monkeypatch, native) -> None:
    """An AVX2-only CPU emulates bf16 (6.5x slower than fp32 here): the first bf16 forward
    says so, naming the fix; later ones, fp32 and native devices stay quiet."""
    monkeypatch.setattr(device, "native_bf16", lambda device_type: native)
    device._warn_emulated_bf16.cache_clear()
    classifier = Classifier.wrap(nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten()), (8, 8))
    images = torch.rand(2, 3, 8, 8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        classifier(images)
        classifier.apply_policy(ExecutionPolicy("bf16"))
        classifier(images)
        classifier(images)
    emulated = [w for w in caught if issubclass(w.category, device.EmulatedBF16Warning)]
    assert len(emulated) == (0 if native else 1)
    if emulated:
        assert "Use precision fp32" in str(emulated[0].message)
    device._warn_emulated_bf16.cache_clear()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (scripts/gpu-check.sh)")
@pytest.mark.parametrize("policy", [ExecutionPolicy(), ExecutionPolicy("bf16")], ids=str)
def test_cuda_policies_agree_with_cpu_fp32(lite0, photos, policy) -> None:
    with torch.no_grad():
        reference = lite0(photos)
    gpu = ModelSpec("efficientnet_lite0", precision=policy.precision).load("cuda")
    with torch.no_grad():
        logits = gpu(photos.cuda()).cpu()
    assert torch.equal(logits.argmax(dim=1), reference.argmax(dim=1))
    if policy.precision == "fp32":
        assert (logits - reference).abs().max() < 1e-3  # cuDNN's fp32 kernels differ from CPU's
    maps = explain(gpu, photos[:2].cuda(), method="grad-cam").maps
    cpu_maps = explain(lite0, photos[:2], method="grad-cam").maps
    rho = spearmanr(maps.flatten().numpy(), cpu_maps.flatten().numpy()).statistic
    assert rho >= 0.95


class _TinyNet(nn.Module):
    """Not a container: a compiled module of a class without ``__len__`` has no truth value."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Linear(4 * 6 * 6, 2)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(images).relu().flatten(1))


@pytest.mark.slow
def test_compile_matches_eager_and_reports_its_warm_up() -> None:
    net = _TinyNet()
    preprocessing = Preprocessing((8, 8), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), crop_pct=1.0)
    classifier = Classifier("tiny", net, preprocessing, ["a", "b"])
    images = torch.rand(2, 3, 8, 8)
    with torch.no_grad():
        expected = classifier(images)
        classifier.apply_policy(ExecutionPolicy(compile=True))
        assert classifier.compile_warmup_s is None
        torch.testing.assert_close(classifier(images), expected, rtol=1e-5, atol=1e-5)
    assert classifier.compile_warmup_s > 0
