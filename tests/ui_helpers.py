"""Helpers of the front-end tests: a uvicorn server in a thread and upload files."""

import os
import threading
from pathlib import Path

import uvicorn
from servers import ServerError, free_port, wait_for

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

UPLOAD_LIMIT = 400_000  # bytes: the oversized-upload test sends a larger file


class ThreadServer:
    """An ASGI app served by uvicorn in a daemon thread on 127.0.0.1:<free port>."""

    def __init__(self, app: object):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_for(self._started, 60, "uvicorn to start")

    def _started(self) -> bool:
        if not self.thread.is_alive():
            raise ServerError("uvicorn exited before it started (see the log above)")
        return self.server.started

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def sample_png(folder: Path, name: str = "coffee", size: int = 160) -> Path:
    """A shipped photo saved as a small PNG file (an upload)."""
    from genlens.core.data import sample_image

    path = folder / f"{name}.png"
    sample_image(name).resize((size, size)).save(path)
    return path
