"""Help texts and ``genlens models`` import no heavy package (torch, gradio, celery, ...): each
command runs in a fresh interpreter and reports what it imported (timings: bench/cli_startup.py).
"""

import pytest

from genlens.demo.cli.imports import heavy_imports


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["explain", "--help"],
        ["visualize", "--help"],
        ["bench", "saliency", "--help"],
        ["submit", "explain", "--help"],
        ["models", "--all"],
    ],
    ids=" ".join,
)
def test_help_and_models_import_nothing_heavy(args: list[str]) -> None:
    heavy, out = heavy_imports(args)
    assert heavy == []
    assert out.strip()


def test_help_lists_registry_names_and_shared_defaults() -> None:
    _, out = heavy_imports(["explain", "--help"])
    for text in ("fido-ssr", "learned-blockfashion", "--arch", "--labels", "local-mean"):
        assert text in out
    _, out = heavy_imports(["models", "--all"])
    for text in ("efficientnet_lite0", "blockfashion-cnn", "pointing-game", "benchmark"):
        assert text in out
