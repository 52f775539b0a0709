"""The server's TLS context, reloaded in place when the certificate changes.

The listening socket keeps one :class:`ssl.SSLContext` for its life; loading a new
certificate chain into it affects the handshakes that follow and not the connections
already open, so a rotation drops no request. Loading happens on the event loop, the
thread that runs every handshake, so no handshake sees half a change. The standard library
loads certificates from files only: the PEM is written to a private directory (mode 0700,
files 0600) and removed once loaded.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from pathlib import Path

from orkestra.gateway.certs import KeyPair


class ServingContext:
    def __init__(self) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._directory = Path(tempfile.mkdtemp(prefix="ork-gateway-"))
        self.serving: KeyPair | None = None

    def _write(self, name: str, data: bytes) -> Path:
        path = self._directory / name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        return path

    def load(self, pair: KeyPair) -> None:
        """Serve ``pair`` from the next handshake on."""
        cert = self._write("tls.crt", pair.certificate)
        key = self._write("tls.key", pair.key)
        try:
            self.context.load_cert_chain(cert, key)
        finally:
            cert.unlink(missing_ok=True)
            key.unlink(missing_ok=True)
        self.serving = pair

    def close(self) -> None:
        shutil.rmtree(self._directory, ignore_errors=True)
