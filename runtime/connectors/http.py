"""The ``http`` connector: one JSON request per attempt, through a pooled httpx client.

One ``httpx.Client`` per worker process keeps connections alive across calls; httpx
clients are thread-safe, and a new one is made after a fork so a prefork worker never
shares sockets with its parent. Redirects are not followed: a service task names its
endpoint exactly, and silently re-sending a POST elsewhere is worse than an incident.

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
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import conf
from .base import BUSINESS_ERROR, FAILED, OK, RETRYABLE, CallOutcome, CallRequest, ConfigurationError

USER_AGENT = "flowyard-connector/1"
DETAIL_LIMIT = 8000
_RETRYABLE_4XX = {408, 429}
DEFAULT_TIMEOUT = 30.0

_client: httpx.Client | None = None
_client_pid: int | None = None
_client_lock = threading.Lock()


def client() -> httpx.Client:
    """The process's pooled client (created on first use, re-created after fork)."""
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        with _client_lock:
            if _client is None or _client_pid != os.getpid():
                cfg = conf.http_config()
                limits = httpx.Limits(max_connections=cfg["max_connections"],
                                      max_keepalive_connections=cfg["max_keepalive"])
                _client = httpx.Client(limits=limits, follow_redirects=False,
                                       headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
                _client_pid = os.getpid()
    return _client


def close_client() -> None:
    global _client
    with _client_lock:
        if _client is not None and _client_pid == os.getpid():
            _client.close()
        _client = None


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
        headers = {str(k): str(v) for k, v in _headers(config.get("headers")).items()}
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
            with client().stream(method, url, headers=headers, content=content,
                                 timeout=httpx.Timeout(timeout)) as response:
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        return CallOutcome(FAILED, message=f"response of {where} is larger than {max_bytes} bytes")
                    if time.monotonic() > deadline:  # httpx times each read, not the whole attempt
                        raise httpx.ReadTimeout("attempt deadline passed while reading the body")
                    chunks.append(chunk)
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
