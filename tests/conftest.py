"""Shared fixtures. Network access beyond loopback is blocked for the whole test session, so
code that tries to download weights or data fails loudly instead of passing on a machine that
happens to have a cache or a network."""

import socket

import pytest
import torch

from genlens.core.models import Classifier, load_classifier

_LOOPBACK = {"localhost", "127.0.0.1", "::1", "", None}
_real_connect = socket.socket.connect
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: object) -> bool:
    return host in _LOOPBACK or (isinstance(host, str) and host.startswith("127."))


def _guarded_connect(sock: socket.socket, address, *args, **kwargs):
    host = address[0] if isinstance(address, tuple) else None
    if sock.family == socket.AF_UNIX or _is_loopback(host):
        return _real_connect(sock, address, *args, **kwargs)
    raise OSError(f"network access to {address!r} is disabled in genlens tests")


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_loopback(host):
        raise OSError(f"name lookup of {host!r} is disabled in genlens tests")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect
socket.getaddrinfo = _guarded_getaddrinfo

# One intra-op thread: tests run beside worker and server processes on 2 cores, where
# oversubscribed thread pools make small tensor ops orders of magnitude slower. Results do not
# depend on the thread count (batch-vs-single equality tests pin their kernels themselves).
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def lite0() -> Classifier:
    """EfficientNet-Lite0 with the shipped ImageNet weights, on CPU, loaded once."""
    return load_classifier("efficientnet_lite0", device="cpu")
