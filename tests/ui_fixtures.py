"""Fixtures for the front-end tests: one deployment (SQLite + filesystem broker, one real
``genlens worker`` subprocess) per module and the Gradio app served by uvicorn in a thread on
a free loopback port. A server that cannot start fails the test (never skips)."""

from collections.abc import Iterator

import pytest
from servers import Deployment
from ui_helpers import UPLOAD_LIMIT, ThreadServer


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The embedded default with one worker; uploads capped at ``UPLOAD_LIMIT`` bytes."""
    deployment = Deployment(
        tmp_path_factory.mktemp("ui"), None, None, GENLENS_MAX_UPLOAD_BYTES=str(UPLOAD_LIMIT)
    )
    deployment.ensure_workers(1)
    yield deployment
    deployment.close()


@pytest.fixture(scope="module")
def gradio_url(deployment: Deployment) -> Iterator[str]:
    """The Gradio demo of ``deployment``, served on a free loopback port."""
    from genlens.demo.gradio_app import create_app

    server = ThreadServer(create_app(deployment.client))
    yield server.url
    server.stop()
