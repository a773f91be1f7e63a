"""Atomic message files for kombu's filesystem transport (the embedded default broker).

kombu 5's ``filesystem`` transport creates a message file, then writes it; a consumer that
lists the folder in between moves the still-empty file away and fails to decode it (seen in
CI: the worker died on ``JSONDecodeError: Expecting value`` while a job was being submitted).
:func:`install` makes each message appear whole: it is written under a hidden temporary name,
which consumers skip (they take ``<stamp>_<uuid>.<queue>.msg`` only), then renamed into place.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


def _put_atomically(channel: filesystem.Channel, queue: str, payload: dict, **kwargs) -> None:
    """``Channel._put`` that publishes the message file by an atomic rename."""
    name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
    final = os.path.join(channel.data_folder_out, name)
    partial = os.path.join(channel.data_folder_out, f".{name}.partial")
    try:
        with open(partial, "wb") as handle:
            handle.write(str_to_bytes(dumps(payload)))
        os.replace(partial, final)
    except OSError as exc:
        raise ChannelError(f"Cannot add file {final!r} to directory") from exc


def install() -> None:
    """Use atomic message files in this process (idempotent)."""
    filesystem.Channel._put = _put_atomically
