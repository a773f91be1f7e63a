"""Loading user models from files: safetensors, state dicts, TorchScript, and refusals."""

import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from genlens.core.errors import ModelLoadError
from genlens.core.models import build_architecture, load_classifier


@pytest.fixture(scope="module")
def resnet_weights() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return build_architecture("resnet18", num_classes=7).state_dict()


def test_safetensors_and_state_dict_round_trip(tmp_path: Path, resnet_weights):
    save_file(resnet_weights, str(tmp_path / "model.safetensors"))
    torch.save({"state_dict": resnet_weights}, tmp_path / "model.pt")
    images = torch.rand(2, 3, 224, 224)
    loaded = [
        load_classifier(tmp_path / "model.safetensors", arch="resnet18", device="cpu"),
        load_classifier(
            tmp_path / "model.pt", arch="resnet18", labels=list("abcdefg"), device="cpu"
        ),
    ]
    assert loaded[0].num_classes == 7 and loaded[1].labels[6] == "g"
    with torch.no_grad():
        assert torch.equal(loaded[0](images), loaded[1](images))


def test_torchvision_architecture(tmp_path: Path):
    torch.manual_seed(0)
    from torchvision.models import squeezenet1_0

    net = squeezenet1_0(num_classes=3)
    torch.save(net.state_dict(), tmp_path / "sq.pth")
    classifier = load_classifier(
        tmp_path / "sq.pth", arch="squeezenet1_0", num_classes=3, device="cpu"
    )
    images = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        expected = net.eval()((images - classifier.mean) / classifier.std)
        assert torch.allclose(classifier(images), expected, atol=1e-5)


class _Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_crafted_pickle_is_refused_and_never_executed(tmp_path: Path):
    marker = tmp_path / "pwned"
    payload = tmp_path / "evil.pt"
    torch.save({"weight": torch.zeros(2), "x": _Exploit(marker)}, payload)
    with pytest.raises(ModelLoadError, match="refused"):
        load_classifier(payload, arch="resnet18", device="cpu")
    assert not marker.exists()
    plain = tmp_path / "evil.pkl"
    plain.write_bytes(pickle.dumps(_Exploit(marker)))
    with pytest.raises(ModelLoadError, match="unsupported weights format"):
        load_classifier(plain, arch="resnet18", device="cpu")
    assert not marker.exists()


def test_torchscript_needs_trust(tmp_path: Path):
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 2))
    scripted = torch.jit.script(net)
    path = tmp_path / "scripted.pt"
    scripted.save(str(path))
    from genlens.core.models import Preprocessing

    preprocessing = Preprocessing((4, 4), (0.0,) * 3, (1.0,) * 3, 1.0)
    with pytest.raises(ModelLoadError, match="trust_code"):
        load_classifier(path, preprocessing=preprocessing, device="cpu")
    with pytest.raises(ModelLoadError, match="TorchScript"):
        load_classifier(path, arch="resnet18", device="cpu")
    classifier = load_classifier(path, preprocessing=preprocessing, trust_code=True, device="cpu")
    images = torch.rand(2, 3, 4, 4)
    with torch.no_grad():
        assert torch.allclose(classifier(images), net(images))
    assert classifier.num_classes == 2


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\x00garbage", "bad.safetensors", "corrupt safetensors"),
        (b"PK\x03\x04 not really a zip", "bad.pt", "not a readable"),
        (b"hello", "weights.h5", "unsupported weights format"),
    ],
)
def test_corrupt_or_unknown_files(tmp_path: Path, content: bytes, name: str, message: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=message):
        load_classifier(path, arch="resnet18", device="cpu")


def test_weights_that_do_not_fit(tmp_path: Path, resnet_weights):
    save_file(resnet_weights, str(tmp_path / "r18.safetensors"))
    with pytest.raises(ModelLoadError, match="does not fit resnet34"):
        load_classifier(tmp_path / "r18.safetensors", arch="resnet34", device="cpu")
    with pytest.raises(ModelLoadError, match="unknown architecture"):
        load_classifier(tmp_path / "r18.safetensors", arch="no_such_net", device="cpu")


def test_unknown_name():
    with pytest.raises(ModelLoadError, match="neither a registered model"):
        load_classifier("efficientnet_lite9")
