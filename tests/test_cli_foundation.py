"""The ``genlens`` console script: models, classify, and one-line errors."""

import os
import subprocess
import sys
from pathlib import Path

GENLENS = str(Path(sys.executable).with_name("genlens"))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([GENLENS, *args], capture_output=True, text=True, timeout=300, env=env)


def test_models_lists_builtins():
    result = run("models")
    assert result.returncode == 0
    for name in ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"):
        assert name in result.stdout


def test_classify_shipped_photos():
    result = run("classify", "sample:chelsea", "sample:coffee", "--top-k", "3")
    assert result.returncode == 0, result.stderr
    chelsea, coffee = result.stdout.split("coffee (")
    first_row = next(line for line in chelsea.splitlines() if "│ 1 " in line)
    assert "cat" in first_row
    assert "espresso" in next(line for line in coffee.splitlines() if "│ 1 " in line)


def test_errors_are_one_line_without_traceback(tmp_path: Path):
    evil = tmp_path / "model.pkl"
    evil.write_bytes(b"\x80\x04K\x01.")
    for args in (
        ("classify", str(tmp_path / "missing.jpg")),
        ("classify", "sample:chelsea", "--model", "no_such_model"),
        ("classify", "sample:chelsea", "--model", str(evil), "--arch", "resnet18"),
        ("classify", "sample:chelsea", "--top-k", "0"),
    ):
        result = run(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_job_commands_on_a_fresh_data_folder(tmp_path: Path):
    """``jobs`` and ``cancel`` migrate an empty folder's database first, as ``submit`` does:
    an empty list and a one-line "no job" error, not a "no such table" traceback."""
    env = {**os.environ, "GENLENS_DATA_DIR": str(tmp_path / "fresh")}
    listed = run("jobs", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "kind" in listed.stdout and "Traceback" not in listed.stderr
    for args in (("jobs", "0000"), ("cancel", "0000")):
        result = run(*args, env=env)
        assert (result.returncode, result.stderr) == (2, "error: no job '0000'\n"), args


def test_help_explains_every_option():
    result = run("classify", "--help")
    assert result.returncode == 0
    for option in ("--model", "--arch", "--trust-code", "--top-k", "--device"):
        assert option in result.stdout


def test_submit_carries_a_given_precision_only(monkeypatch):
    """``genlens submit explain``: ``--precision`` given on the command line goes into the job
    (fp32 too, so a bf16 worker can be overruled); absent, the worker's setting applies.
    ``--compile`` and a benchmark's precision are refused."""
    from typer.testing import CliRunner

    from genlens.demo.cli import app, service_commands

    submitted = []
    monkeypatch.setattr(service_commands, "_submit", lambda specs, wait: submitted.append(specs))
    runner = CliRunner()
    for extra, expected in (
        ([], None),
        (["--precision", "fp32"], "fp32"),
        (["--precision", "bf16"], "bf16"),
    ):
        result = runner.invoke(app, ["submit", "explain", "sample:chelsea", *extra])
        assert result.exit_code == 0, result.output
        assert submitted.pop()[0]["precision"] == expected
    refused = {
        "--compile do not apply": ["submit", "explain", "sample:chelsea", "--compile"],
        "benchmark jobs run at the worker": [
            *("submit", "benchmark", "--suite", "imagenet-photos", "--methods", "grad-cam"),
            *("--model", "efficientnet_lite0", "--precision", "bf16"),
        ],
    }
    for message, args in refused.items():
        result = runner.invoke(app, args)
        assert result.exit_code != 0 and message.split(" do")[0] in str(result.exception)
    assert submitted == []
