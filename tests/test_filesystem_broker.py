"""The embedded broker publishes whole message files: a consumer listing the folder while a
message is being written never picks up a partial one (kombu's own ``_put`` writes in place)."""

import json
import os
import threading
from types import SimpleNamespace

from genlens.worker import filesystem_broker


def test_messages_appear_whole_while_a_reader_polls(tmp_path):
    channel = SimpleNamespace(data_folder_out=str(tmp_path))
    payload = {"body": "x" * 200_000}
    seen, done = [], threading.Event()

    def reader() -> None:
        while not done.is_set():
            for name in os.listdir(tmp_path):
                if name.partition(".")[2] == "jobs.msg":  # what kombu's _get takes
                    seen.append((tmp_path / name).read_bytes())

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(50):
            filesystem_broker._put_atomically(channel, "jobs", payload)
    finally:
        done.set()
        thread.join()
    names = os.listdir(tmp_path)
    assert len(names) == 50 and all(name.endswith(".jobs.msg") for name in names)
    assert seen and all(json.loads(data) == payload for data in seen)
