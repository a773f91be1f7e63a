"""Architecture families: token and NHWC activations mapped to (B, C, H, W) exactly, default
Grad-CAM layers per family, Grad-CAM on a hand-built token model with known evidence and on the
zoo's trained ViT, and a clear error for layers that are not spatial."""

import pytest
import timm
import torch
import torchvision
from torch import nn

from genlens.core.errors import ParameterError
from genlens.core.featviz import objectives, visualize
from genlens.core.featviz.transforms import RobustTransforms
from genlens.core.models import Classifier, ModelSpec
from genlens.core.saliency import explain
from genlens.evaluation.metrics import MetricInput, metric
from genlens.evaluation.runner import LoadedSuite


class TokenNet(nn.Module):
    """A token model with known spatial evidence: a 4x4-pixel patch embedding of 16x16 images
    (channel 0 = mean red of the patch), a class token prepended, ``blocks.0`` the identity on
    tokens (B, 17, 4), and ``logit 0 = mean over patch tokens of channel 0``. It declares no
    ``num_prefix_tokens``: the grid is inferred (17 tokens = 1 + 4 x 4)."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Conv2d(3, 4, 4, stride=4, bias=False)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 4))
        self.blocks = nn.Sequential(nn.Identity())
        self.head = nn.Linear(4, 2, bias=False)
        with torch.no_grad():
            self.embed.weight.zero_()
            self.embed.weight[0, 0] = 1 / 16
            self.head.weight.zero_()
            self.head.weight[0, 0] = 1.0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(images).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls_token.expand(len(images), -1, -1), tokens], dim=1)
        return self.head(self.blocks(tokens)[:, 1:].mean(dim=1))


def _vit(name: str = "vit_tiny_patch16_224") -> Classifier:
    net = timm.create_model(name, pretrained=False, num_classes=3, img_size=32, patch_size=8)
    return Classifier.wrap(net, (32, 32))


def test_grad_cam_finds_the_evidence_patch_of_a_token_model() -> None:
    classifier = Classifier.wrap(TokenNet(), (16, 16))
    images = torch.zeros(1, 3, 16, 16)
    images[0, 0, 4:8, 8:12] = 1.0  # patch row 1, column 2
    tokens = torch.cat([torch.zeros(1, 1, 4), classifier.net.embed(images).flatten(2).mT], 1)
    grid = classifier.spatial("blocks.0", tokens)
    assert grid.shape == (1, 4, 4, 4)
    assert grid[0, 0].nonzero().tolist() == [[1, 2]]
    cam = explain(classifier, images, target=0, method="grad-cam", layer="blocks.0").maps[0]
    row, col = divmod(int(cam.argmax()), 16)
    assert 4 <= row < 8 and 8 <= col < 12
    assert cam[:2].abs().max() == 0 and cam[:, :4].abs().max() == 0  # far patches get nothing


@pytest.mark.parametrize(
    ("name", "prefix"), [("vit_tiny_patch16_224", 1), ("deit_tiny_distilled_patch16_224", 2)]
)
def test_vit_tokens_land_on_the_patch_grid_in_timm_order(name: str, prefix: int) -> None:
    """The patch embedding's conv output (B, C, 4, 4) is what the patch tokens map back to:
    at ``patch_embed`` (no prefix tokens) and at ``blocks.0`` with the prefix tokens dropped."""
    classifier = _vit(name)
    net = classifier.net
    assert net.num_prefix_tokens == prefix
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad(), classifier.capture(["patch_embed", "blocks.0.norm1"]) as record:
        classifier(images)
        expected = net.patch_embed.proj(images)
    torch.testing.assert_close(
        classifier.spatial("patch_embed", record.activations["patch_embed"]), expected
    )
    tokens = record.activations["blocks.0.norm1"]
    assert tokens.shape[1] == prefix + 16
    grid = classifier.spatial("blocks.0.norm1", tokens)
    torch.testing.assert_close(grid[:, :, 1, 3], tokens[:, prefix + 1 * 4 + 3])
    torch.testing.assert_close(
        classifier.pooled("blocks.0.norm1", tokens), tokens[:, prefix:].mean(1)
    )


def test_default_layers_per_family() -> None:
    swin = timm.create_model(
        "swin_tiny_patch4_window7_224",
        pretrained=False,
        num_classes=3,
        img_size=64,
        window_size=4,
        depths=(1, 1, 1, 1),
        embed_dim=24,
        num_heads=(1, 1, 1, 1),
    )
    cases = [
        ("blocks.11.norm1", _vit().net, 32),
        ("layers.3", swin, 64),
        ("stages.3", timm.create_model("convnext_atto", pretrained=False, num_classes=3), 64),
        ("layer4.1.conv2", torchvision.models.resnet18(num_classes=3), 64),
    ]
    for layer, net, size in cases:
        assert Classifier.wrap(net, (size, size)).spatial_layer() == layer
    classifier = Classifier.wrap(swin, (64, 64))
    with torch.no_grad(), classifier.capture(["layers.3"]) as record:
        classifier(torch.rand(1, 3, 64, 64))
    nhwc = record.activations["layers.3"]
    assert nhwc.shape == (1, 2, 2, swin.num_features)
    torch.testing.assert_close(classifier.spatial("layers.3", nhwc), nhwc.permute(0, 3, 1, 2))
    maps = explain(classifier, torch.rand(2, 3, 64, 64), method="grad-cam").maps
    assert maps.shape == (2, 64, 64) and torch.isfinite(maps).all()


def test_a_layer_that_is_not_spatial_names_one_that_is() -> None:
    classifier = _vit()
    with pytest.raises(ParameterError, match=r"'head'.*cannot be mapped.*'blocks\.11\.norm1'"):
        explain(classifier, torch.rand(1, 3, 32, 32), method="grad-cam", layer="head")


def test_channel_objectives_read_vit_tokens_as_a_grid() -> None:
    """Feature visualization of a ViT channel: the objective sees (B, C, 4, 4) patch tokens,
    so a channel's spatial mean rises over a few steps, and neuron() finds a centre."""
    classifier = _vit()
    still = RobustTransforms(pad=0, jitter=0, scales=(1.0,), degrees=0)
    for objective in (objectives.channel("blocks.1", 5), objectives.neuron("blocks.1", 5)):
        result = visualize(classifier, objective, steps=12, transforms=still)
        assert float(result.scores[0]) > float(result.trace[0, 0])


def test_grad_cam_on_the_zoo_vit_points_at_the_item_better_than_random() -> None:
    """The shipped ViT (trained on BlockFashion, ``core/zoo/blockfashion-vit``) on the
    ``blockfashion-gt`` canvases: Grad-CAM at the ViT family's default layer hits the item's
    ground-truth mask more often than a random map (pointing game)."""
    loaded = LoadedSuite.load("blockfashion-gt", "cpu", ModelSpec("blockfashion-vit"))
    images, target, masks = loaded.data.images, loaded.data.target, loaded.data.masks
    scores = {}
    for method in ("grad-cam", "random"):
        maps = explain(loaded.classifier, images, target.tolist(), method=method).maps
        inputs = MetricInput(loaded.classifier, images, maps, target, masks)
        scores[method] = float(metric("pointing-game").compute(inputs).float().mean())
    assert loaded.classifier.spatial_layer() == "blocks.3.norm1"
    assert scores["grad-cam"] > scores["random"] + 0.2, scores
