"""One HTTP(S) GET under a single deadline: DNS, connect, TLS, redirects and the body together.

A per-read socket timeout does not bound a request: a server that drips a byte every half
second never trips it (issue 17/3). Every phase here gets the time left until one deadline,
and a watchdog shuts the socket down when the deadline passes, whatever phase is blocked.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

MAX_BODY_BYTES = 1_000_000
MAX_REDIRECTS = 5
ALLOWED_SCHEMES = ("http", "https")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "conveyor-validate-http/2"

clock: Callable[[], float] = time.monotonic


class UnhealthyError(Exception):
    """The request did not produce a response that can be judged (time, TLS, network)."""


@dataclass(frozen=True)
class Request:
    url: str
    # Connect to the URL's host but present this name (SNI, Host, certificate check): the
    # check can reach a load balancer by its DNS name while the certificate is the app's
    # (issue 14/5).
    server_name: str | None = None
    # PEM certificates trusted instead of the system store (a private CA).
    ca_certificate: str | None = None
    read_body: bool = True


@dataclass(frozen=True)
class Response:
    status: int
    body: str


def fetch(request: Request, seconds: float) -> Response:
    """GET the URL, following redirects that stay on the same host and never downgrade from
    https to http; the whole exchange ends within `seconds` or raises Unhealthy."""
    deadline = clock() + seconds
    url = request.url
    connect_host = urllib.parse.urlsplit(url).hostname or ""
    for _ in range(MAX_REDIRECTS + 1):
        status, location, body = _exchange(url, connect_host, request, deadline, seconds)
        if status not in REDIRECT_STATUSES or not location:
            return Response(status, body)
        target = urllib.parse.urljoin(url, location)
        _refuse_redirect(url, target, request.server_name)
        url = target
        # A redirect to the app's own name (server_name) still goes to the address checked.
        if urllib.parse.urlsplit(url).hostname != request.server_name:
            connect_host = urllib.parse.urlsplit(url).hostname or ""
    raise UnhealthyError(f"more than {MAX_REDIRECTS} redirects")


def _refuse_redirect(current: str, target: str, server_name: str | None) -> None:
    here, there = urllib.parse.urlsplit(current), urllib.parse.urlsplit(target)
    if there.scheme not in ALLOWED_SCHEMES:
        raise UnhealthyError(f"refused redirect to a {there.scheme or 'relative'}: URL")
    if here.scheme == "https" and there.scheme == "http":
        raise UnhealthyError("refused redirect from https to http")
    same_names = {here.hostname, *([server_name.lower()] if server_name else [])}
    if there.hostname not in same_names:
        raise UnhealthyError(f"refused redirect to another host ({there.hostname})")


def _port(parts: urllib.parse.SplitResult) -> int:
    try:
        port = parts.port
    except ValueError as exc:
        raise UnhealthyError("invalid port in URL") from exc
    return port or (443 if parts.scheme == "https" else 80)


def _exchange(
    url: str, connect_host: str, request: Request, deadline: float, seconds: float
) -> tuple[int, str | None, str]:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = _port(parts)
    address = _resolve(connect_host, port, deadline, seconds)
    holder = _SocketHolder()
    watchdog = threading.Timer(max(0.0, deadline - clock()), holder.shut)
    watchdog.daemon = True
    watchdog.start()
    try:
        holder.sock = _connect(address, deadline, seconds)
        if parts.scheme == "https":
            holder.sock = _tls(holder.sock, host, request, deadline, seconds)
        return _get(holder, parts, host, request, deadline, seconds)
    except UnhealthyError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if clock() >= deadline or isinstance(exc, TimeoutError):
            raise UnhealthyError(f"timed out after {seconds:g}s") from exc
        raise UnhealthyError(f"request failed: {_describe(exc)}") from exc
    finally:
        watchdog.cancel()
        holder.close()


class _SocketHolder:
    """The socket of the current exchange, swapped for its TLS wrapper after the handshake,
    so the watchdog always shuts down the one in use."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self._lock = threading.Lock()

    def shut(self) -> None:
        with self._lock:
            if self.sock is not None:
                # Already closed or never connected: nothing to interrupt.
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with self._lock:
            if self.sock is not None:
                self.sock.close()


def _left(deadline: float, seconds: float) -> float:
    left = deadline - clock()
    if left <= 0:
        raise UnhealthyError(f"timed out after {seconds:g}s")
    return left


def _resolve(host: str, port: int, deadline: float, seconds: float) -> tuple[int, tuple[str, int]]:
    # getaddrinfo has no timeout of its own: wait for it on a daemon thread.
    found: list[object] = []

    def lookup() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            found.append(exc)

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(_left(deadline, seconds))
    if not found:
        raise UnhealthyError(f"timed out after {seconds:g}s (DNS)")
    result = found[0]
    if isinstance(result, OSError):
        raise UnhealthyError(f"request failed: cannot resolve host ({_describe(result)})")
    assert isinstance(result, list) and result, "getaddrinfo returns a list or raises"
    family, _, _, _, address = result[0]
    return family, address[:2]


def _connect(
    address: tuple[int, tuple[str, int]], deadline: float, seconds: float
) -> socket.socket:
    family, target = address
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(_left(deadline, seconds))
        sock.connect(target)
    except BaseException:
        sock.close()
        raise
    return sock


def tls_context(ca_certificate: str | None) -> ssl.SSLContext:
    if ca_certificate:
        # Only the given CA is trusted: a private CA is the whole trust store for this check.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cadata=ca_certificate)
        return context
    return ssl.create_default_context()


def _tls(
    sock: socket.socket, host: str, request: Request, deadline: float, seconds: float
) -> socket.socket:
    context = tls_context(request.ca_certificate)
    sock.settimeout(_left(deadline, seconds))
    try:
        return context.wrap_socket(sock, server_hostname=request.server_name or host)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        raise UnhealthyError(f"TLS certificate not valid: {exc.verify_message}") from exc
    except ssl.SSLError as exc:
        sock.close()
        raise UnhealthyError(f"TLS handshake failed: {exc.reason or exc}") from exc


def _headers(parts: urllib.parse.SplitResult, host: str, request: Request) -> dict[str, str]:
    name = request.server_name or host
    if ":" in name:  # an IPv6 literal
        name = f"[{name}]"
    headers = {
        "Host": f"{name}:{parts.port}" if parts.port else name,
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Connection": "close",
    }
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    return headers


def _get(
    holder: _SocketHolder,
    parts: urllib.parse.SplitResult,
    host: str,
    request: Request,
    deadline: float,
    seconds: float,
) -> tuple[int, str | None, str]:
    assert holder.sock is not None
    connection = http.client.HTTPConnection(host, _port(parts))
    connection.sock = holder.sock  # our socket: connected, wrapped and watched already
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    holder.sock.settimeout(_left(deadline, seconds))
    connection.request("GET", target, headers=_headers(parts, host, request))
    with contextlib.closing(connection.getresponse()) as response:
        location = response.getheader("Location")
        body = b""
        if request.read_body and response.status not in REDIRECT_STATUSES:
            while len(body) < MAX_BODY_BYTES:
                holder.sock.settimeout(_left(deadline, seconds))
                chunk = response.read1(MAX_BODY_BYTES - len(body))
                if not chunk:
                    break
                body += chunk
        # Headers or a body that ended because the watchdog shut the socket are no answer: a
        # status line followed by headers that never finish must not count as healthy.
        _left(deadline, seconds)
        return response.status, location, body.decode("utf-8", "replace")


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
    return str(reason) or type(exc).__name__
