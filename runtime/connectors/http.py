"""The ``http`` connector: one JSON request per attempt, over a pooled httpx transport.

Each worker process keeps one ``httpx.HTTPTransport`` (a pool of keep-alive connections,
thread-safe) and sends the request straight to it: ``httpx.Client``'s layers (default
headers, cookie jar, auth and redirect handling, transport routing) cost a worker
thread about as much CPU again as the transport itself, for nothing a service call
uses. The one thing the client did that a call needs is honouring ``HTTP_PROXY``,
``HTTPS_PROXY``, ``ALL_PROXY`` and ``NO_PROXY``: a URL that the environment sends
through a proxy (as ``urllib.request`` reads it) goes through an ``httpx.Client``, which
routes it exactly as before. Both are made again after a fork, so a prefork worker never
shares sockets with its parent. Redirects are not followed: a service task names its
endpoint exactly, and silently re-sending a POST elsewhere is worse than an incident.
Cookies are not kept between calls (the client's jar was shared by every call of the
process).

Mapping of answers (DESIGN.md's contract, plus the two 4xx that mean "not now"):

=====================================  ==============================================
2xx                                     ``ok``; result = response JSON, or text, or None
5xx, 408, 429, timeout, network error   ``retryable`` (``Retry-After`` kept as a hint)
other 4xx                               ``business_error`` ``HTTP_<status>``, body in detail
3xx, bad URL, body not JSON-able        ``failed`` (configuration; no retry helps)
=====================================  ==============================================
"""
from __future__ import annotations

import functools
import json
import os
import threading
import time
import urllib.request
from typing import Any

import httpx

from . import conf
from .base import BUSINESS_ERROR, FAILED, OK, RETRYABLE, CallOutcome, CallRequest, ConfigurationError

USER_AGENT = "flowyard-connector/1"
DETAIL_LIMIT = 8000
_RETRYABLE_4XX = {408, 429}
DEFAULT_TIMEOUT = 30.0
#: Sent with every request unless the task's headers say otherwise (compared without case).
BASE_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip, deflate"}


class _Pool:
    """One process's connections: the direct transport, and the client for proxied URLs
    (made on first use: most deployments have none)."""

    def __init__(self) -> None:
        cfg = conf.http_config()
        self.pid = os.getpid()
        self.limits = httpx.Limits(max_connections=cfg["max_connections"],
                                   max_keepalive_connections=cfg["max_keepalive"])
        self.transport = httpx.HTTPTransport(limits=self.limits, trust_env=True)
        self.proxies = urllib.request.getproxies_environment()
        self.client: httpx.Client | None = None

    def proxied(self, url: httpx.URL) -> bool:
        """Does the environment send ``url`` through a proxy?"""
        proxies = self.proxies
        if not (proxies.get(url.scheme) or proxies.get("all")):
            return False
        return not urllib.request.proxy_bypass_environment(url.netloc.decode("ascii"), proxies)

    def proxy_client(self) -> httpx.Client:
        if self.client is None:
            with _pool_lock:
                if self.client is None:
                    self.client = httpx.Client(limits=self.limits, follow_redirects=False, trust_env=True)
        return self.client

    def close(self) -> None:
        self.transport.close()
        if self.client is not None:
            self.client.close()


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def pool() -> _Pool:
    """The process's connections (made on first use, made again after a fork)."""
    global _pool
    current = _pool
    if current is None or current.pid != os.getpid():
        with _pool_lock:
            if _pool is None or _pool.pid != os.getpid():
                _pool = _Pool()
            current = _pool
    return current


def close_client() -> None:
    """Close this process's connections; the next call opens new ones (with the settings
    and proxy environment of that moment)."""
    global _pool
    with _pool_lock:
        if _pool is not None and _pool.pid == os.getpid():
            _pool.close()
        _pool = None


def _send(request: httpx.Request) -> httpx.Response:
    """Send through the transport, or through the proxy client when a proxy applies; the
    response's body is not read yet (the caller reads and closes it)."""
    connections = pool()
    if connections.proxied(request.url):
        return connections.proxy_client().send(request, stream=True)
    response = connections.transport.handle_request(request)
    response.request = request
    return response


def _url(request: CallRequest) -> httpx.URL:
    raw = (request.config or {}).get("url")
    if not raw or not isinstance(raw, str):
        raise ConfigurationError("http connector needs a 'url'")
    return _parsed_url(raw)


@functools.lru_cache(maxsize=1024)
def _parsed_url(raw: str) -> httpx.URL:
    """httpx's URL parser costs ~50 us and each call needs the URL twice (its breaker's
    endpoint, the request): parsed once per distinct text (URLs are immutable)."""
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ConfigurationError(f"invalid URL {raw!r}: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"URL must be absolute http(s), got {raw!r}")
    return url


def _headers(value: Any) -> dict:
    """Evaluated headers are a dict; a literal ``headers='{"k": "v"}'`` arrives as JSON text."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ConfigurationError(f"headers must be a JSON object, got {value[:80]!r}") from None
    if not isinstance(value, dict):
        raise ConfigurationError(f"headers must be an object, got {type(value).__name__}")
    return value


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # HTTP-date form: rare for APIs; the task's own backoff applies


def _decode(content: bytes, content_type: str) -> Any:
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    if "json" in content_type or text[:1] in "{[\"" or text.strip() in ("true", "false", "null"):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


class HttpConnector:
    """Send ``config = {"method", "url", "headers", "body"}`` as one JSON request."""

    def endpoint(self, request: CallRequest) -> str:
        url = _url(request)
        port = url.port or (443 if url.scheme == "https" else 80)
        return f"{url.scheme}://{url.host}:{port}"

    def call(self, request: CallRequest) -> CallOutcome:
        config = request.config or {}
        url = _url(request)
        method = str(config.get("method") or "POST").upper()
        headers = httpx.Headers(BASE_HEADERS)
        headers.update({str(k): str(v) for k, v in _headers(config.get("headers")).items()})
        headers["Idempotency-Key"] = request.idempotency_key
        body = config.get("body")
        content = None
        if body is not None:
            try:
                content = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
            except (TypeError, ValueError) as exc:
                raise ConfigurationError(f"request body is not JSON: {exc}") from None
            headers.setdefault("Content-Type", "application/json")
        max_bytes = conf.http_config()["max_response_bytes"]
        timeout = request.timeout if request.timeout and request.timeout > 0 else DEFAULT_TIMEOUT
        deadline = time.monotonic() + timeout
        where = f"{method} {url}"
        try:
            outgoing = httpx.Request(method, url, headers=headers, content=content,
                                     extensions={"timeout": httpx.Timeout(timeout).as_dict()})
            response = _send(outgoing)
            try:
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        return CallOutcome(FAILED, message=f"response of {where} is larger than {max_bytes} bytes")
                    if time.monotonic() > deadline:  # httpx times each read, not the whole attempt
                        raise httpx.ReadTimeout("attempt deadline passed while reading the body")
                    chunks.append(chunk)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            return CallOutcome(RETRYABLE, message=f"{where} timed out after {timeout:g}s", detail=repr(exc))
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
        except httpx.TransportError as exc:
            return CallOutcome(RETRYABLE, message=f"{where} failed: {exc.__class__.__name__}: {exc}", detail=repr(exc))
        raw = b"".join(chunks)
        result = _decode(raw, response.headers.get("content-type", ""))
        status = response.status_code
        detail = raw[:DETAIL_LIMIT].decode("utf-8", errors="replace")
        if 200 <= status < 300:
            return CallOutcome(OK, result=result)
        if status >= 500 or status in _RETRYABLE_4XX:
            return CallOutcome(RETRYABLE, result=result, message=f"{where} answered {status}", detail=detail,
                               retry_after=_parse_retry_after(response.headers.get("retry-after")))
        if 400 <= status < 500:
            return CallOutcome(BUSINESS_ERROR, result=result, error_code=f"HTTP_{status}",
                               message=f"{where} answered {status}", detail=detail)
        location = response.headers.get("location", "")
        return CallOutcome(FAILED, message=f"{where} answered {status} (redirect to {location!r} not followed)",
                           detail=detail)
