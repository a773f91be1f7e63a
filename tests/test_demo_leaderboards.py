"""The leaderboards of the front ends: the committed boards ship as package data (the rows of
``bench/results``), and a suite's rows stored in the database replace its shipped board."""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from genlens.db.migrate import upgrade
from genlens.demo.leaderboards import leaderboards, shipped_rows, shipped_suites
from genlens.evaluation.registries import SUITES
from genlens.evaluation.runner import ResultRow, load_rows
from genlens.evaluation.suites import get_suite
from genlens.worker.benchmark_store import store_rows
from genlens.worker.client import JobClient
from genlens.worker.settings import Settings

BENCH_RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"


def _by_key(rows: list[ResultRow]) -> list[ResultRow]:
    return sorted(rows, key=ResultRow.key)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[JobClient]:
    """A client on an empty, migrated SQLite job database."""
    settings = Settings(data_dir=tmp_path, device="cpu")
    upgrade(settings.database)
    client = JobClient(settings)
    yield client
    client.close()


def test_shipped_boards_are_the_committed_results() -> None:
    """One shipped board per committed suite folder (``blockfashion-gt-bf16``, the same suite
    run in bf16 for the speed figures, is not a board of its own)."""
    folders = (path.parent.name for path in BENCH_RESULTS.glob("*/results.jsonl"))
    committed = sorted(name for name in folders if name in SUITES.names())
    assert shipped_suites() == committed
    for suite in committed:
        classifier = get_suite(suite).classifier  # committed rows predate the model field
        expected = [
            replace(row, model=row.model or classifier)
            for row in load_rows(BENCH_RESULTS / suite / "results.jsonl")
        ]
        assert _by_key(shipped_rows(suite)) == _by_key(expected), suite
    assert shipped_rows("no-such-suite") == []


def test_database_rows_replace_the_shipped_board(client: JobClient) -> None:
    assert list(leaderboards(client)) == [f"{suite} (shipped)" for suite in shipped_suites()]
    row = shipped_rows("fmnist")[0]
    with client.db.begin() as session:
        store_rows(session, [row], get_suite("fmnist"))
    boards = leaderboards(client)
    assert "fmnist (database)" in boards and "fmnist (shipped)" not in boards
    assert list(boards).index("fmnist (database)") == shipped_suites().index("fmnist")
    assert boards["fmnist (database)"]() == [row]
