"""Real local servers for the validation tests: plain HTTP, a TLS server whose certificate is
for another name (signed by a throwaway CA made here), and a black hole for AWS calls."""

from __future__ import annotations

import datetime
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

APP_NAME = "app.payments.example"


class Routes(BaseHTTPRequestHandler):
    flaky_calls = 0
    # Filled by the fixture: where the redirect routes point.
    other_origin = ""
    plain_origin = ""
    seen_hosts: list[str] = []  # noqa: RUF012 - test bookkeeping shared by all handlers
    # The request target and headers of every request, in order.
    seen_requests: list[tuple[str, dict[str, str]]] = []  # noqa: RUF012

    def do_GET(self) -> None:
        type(self).seen_hosts.append(self.headers.get("Host", ""))
        type(self).seen_requests.append((self.path, dict(self.headers.items())))
        path = self.path.split("?")[0]
        if path == "/ok":
            self._send(200, "status: ok")
        elif path == "/error":
            self._send(500, "boom")
        elif path == "/degraded":
            self._send(200, "status: degraded")
        elif path == "/slow":
            time.sleep(1.0)
            self._send(200, "status: ok")
        elif path == "/drip":
            self._drip()
        elif path == "/flaky":
            type(self).flaky_calls += 1
            self._send(200 if self.flaky_calls > 2 else 503, "status: ok")
        elif path == "/auth":
            expected = "Basic dXNlcjpodW50ZXIy"  # user:hunter2
            ok = self.headers.get("Authorization") == expected
            self._send(200 if ok else 401, "status: ok")
        elif path.startswith("/hops/"):
            # /hops/N redirects N times on the same host, then lands on /ok.
            left = int(path.rsplit("/", 1)[1])
            self._redirect_to(f"/hops/{left - 1}" if left > 1 else "/ok")
        elif path == "/redirect-nowhere":
            self._redirect_to(None)
        elif path == "/drip-headers":
            self._drip_headers()
        elif path == "/big":
            # "status: ok", then more than the 1 MB a check reads, then "needle".
            self._send(200, "status: ok" + "." * 1_100_000 + "needle")
        elif path == "/not-utf8":
            self._send_bytes(200, b"status: ok \xff\xfe")
        elif path.startswith("/redirect-"):
            self._redirect(path)
        else:
            self._send(404, "not found")

    def _redirect(self, path: str) -> None:
        targets = {
            "/redirect-ok": "/ok",
            "/redirect-ftp": "ftp://127.0.0.1/etc/passwd",
            "/redirect-file": "file:///etc/passwd",
            "/redirect-other-host": f"{self.other_origin}/ok",
            "/redirect-to-http": f"{self.plain_origin}/ok",
            "/redirect-loop": "/redirect-loop",
            "/redirect-app-name": f"https://{APP_NAME}:{self.connection.getsockname()[1]}/ok",
            "/redirect-bad-port": f"http://127.0.0.1:{self.connection.getsockname()[1]}0000/ok",
        }
        self._redirect_to(targets[path])

    def _redirect_to(self, location: str | None) -> None:
        self.send_response(302)
        if location is not None:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _drip_headers(self) -> None:
        # The status line at once, then a header byte every 0.1 s for about 3 s: only a
        # deadline over the whole request stops the wait for the end of the headers.
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for byte in b"X-Slow: " + b"." * 30 + b"\r\nContent-Length: 0\r\n\r\n":
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass  # the client gave up, as it should

    def _drip(self) -> None:
        # A byte every 0.5 s for about 8 s: no single read ever waits long.
        payload = b"status: ok" + b"." * 6
        try:
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            for byte in payload:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass  # the client gave up, as it should

    def _send(self, status: int, body: str) -> None:
        self._send_bytes(status, body.encode())

    def _send_bytes(self, status: int, payload: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up (timeout test); nothing to clean up

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class ServerV6(Server):
    address_family = socket.AF_INET6


@contextmanager
def serve(tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    httpd = (ServerV6 if ":" in host else Server)((host, 0), Routes)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if tls else "http"
    try:
        name = f"[{host}]" if ":" in host else host
        yield f"{scheme}://{name}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_tls_then(pki: Pki, after_handshake: bytes) -> Iterator[str]:
    """A TLS endpoint that completes the handshake, reads the request, sends `after_handshake`
    on the bare TCP connection (outside TLS; nothing when empty) and drops the connection
    without a TLS close_notify: a proxy that answers in clear text, or a backend that died."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with pki.server_context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
                    if after_handshake:
                        with socket.socket(fileno=os.dup(tls.fileno())) as bare:
                            bare.sendall(after_handshake)
            except OSError:
                continue  # the client gave up first: nothing to answer

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@dataclass(frozen=True)
class Pki:
    ca_pem: str
    server_context: ssl.SSLContext


def make_pki(folder: Path, name: str = APP_NAME) -> Pki:
    """A throwaway CA and a server certificate for `name` only (not for 127.0.0.1)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "conveyor test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return Pki(ca.public_bytes(serialization.Encoding.PEM).decode(), context)
