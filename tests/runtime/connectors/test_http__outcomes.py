"""The http connector against a real server on 127.0.0.1: outcome mapping per answer."""
from __future__ import annotations

import socket
import time

import pytest

from runtime.connectors import CallRequest, execute
from runtime.connectors.http import close_client, pool


def call(url: str, *, method="POST", body=None, headers=None, key="inst-1:exec-1", timeout=5.0):
    config = {"method": method, "url": url, "headers": headers, "body": body}
    return execute(CallRequest(connector="http", config=config, inputs={}, idempotency_key=key, timeout=timeout))


def test_2xx_json_is_ok_with_the_response_as_result(service, connector_settings):
    outcome = call(f"{service.url}/echo", body={"order": 7, "items": [1, 2]})

    assert outcome.status == "ok"
    assert outcome.result == {"method": "POST", "body": {"order": 7, "items": [1, 2]},
                              "idempotency_key": "inst-1:exec-1"}
    assert outcome.endpoint == service.url


def test_sends_json_body_idempotency_key_and_custom_headers(service, connector_settings):
    call(f"{service.url}/echo", method="put", body={"a": 1}, headers={"X-Tenant": "acme", "X-Count": 3})

    sent = service.requests[-1]
    assert sent["method"] == "PUT"
    assert sent["body"] == {"a": 1}
    assert sent["headers"]["Content-Type"] == "application/json"
    assert sent["headers"]["Idempotency-Key"] == "inst-1:exec-1"
    assert sent["headers"]["X-Tenant"] == "acme" and sent["headers"]["X-Count"] == "3"


def test_task_headers_replace_the_defaults_whatever_their_case(service, connector_settings):
    call(f"{service.url}/echo", body={"a": 1}, headers={"accept": "text/plain", "content-type": "application/json"})

    sent = service.requests[-1]
    assert sent["header_names"].count("accept") == 1 and sent["headers"]["accept"] == "text/plain"
    assert sent["header_names"].count("content-type") == 1
    assert sent["headers"]["User-Agent"] == "flowyard-connector/1"


@pytest.fixture
def proxy_env(monkeypatch):
    """Proxy variables as a deployment would set them; connections made after they are set."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    close_client()
    yield monkeypatch.setenv
    close_client()


def test_http_proxy_from_the_environment_carries_the_call(service, connector_settings, proxy_env):
    proxy_env("HTTP_PROXY", service.url)  # the fake service plays the proxy

    call("http://orders.invalid/echo", body={"a": 1})

    sent = service.requests[-1]
    assert sent["path"] == "http://orders.invalid/echo"  # a proxy's request line: the absolute URL
    assert sent["headers"]["Idempotency-Key"] == "inst-1:exec-1"


def test_no_proxy_hosts_are_called_directly(service, connector_settings, proxy_env):
    proxy_env("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there: a proxied call would fail
    proxy_env("NO_PROXY", "127.0.0.1,localhost")

    outcome = call(f"{service.url}/echo", body={"a": 1})

    assert outcome.status == "ok" and service.requests[-1]["path"] == "/echo"


def test_retries_of_one_execution_send_the_same_idempotency_key(service, connector_settings):
    for _ in range(3):
        call(f"{service.url}/status/503", key="inst-9:exec-4")

    assert {r["headers"]["Idempotency-Key"] for r in service.requests} == {"inst-9:exec-4"}


def test_get_without_body_sends_no_content(service, connector_settings):
    outcome = call(f"{service.url}/echo", method="GET")

    assert outcome.status == "ok" and outcome.result["body"] is None
    assert "Content-Type" not in service.requests[-1]["headers"]


def test_text_and_empty_answers(service, connector_settings):
    assert call(f"{service.url}/text").result == "plain words"
    empty = call(f"{service.url}/empty")
    assert empty.status == "ok" and empty.result is None


def test_503_is_retryable_with_retry_after_hint(service, connector_settings):
    outcome = call(f"{service.url}/status/503")

    assert outcome.status == "retryable"
    assert "503" in outcome.message and "planned 503" in outcome.detail
    assert outcome.retry_after == 7.0


def test_402_is_a_business_error_http_402_with_the_body(service, connector_settings):
    outcome = call(f"{service.url}/status/402")

    assert outcome.status == "business_error"
    assert outcome.error_code == "HTTP_402"
    assert "planned 402" in outcome.detail
    assert outcome.result == {"error": "planned 402"}


def test_429_and_408_mean_not_now_so_they_are_retryable(service, connector_settings):
    assert call(f"{service.url}/status/429").status == "retryable"
    assert call(f"{service.url}/status/408").status == "retryable"


def test_timeout_is_retryable_and_bounded_by_the_attempt_timeout(service, connector_settings):
    started = time.monotonic()
    outcome = call(f"{service.url}/slow/2", timeout=0.3)

    assert outcome.status == "retryable"
    assert "timed out after 0.3s" in outcome.message
    assert time.monotonic() - started < 1.5


def test_connection_refused_is_retryable(connector_settings):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome = call(f"http://127.0.0.1:{port}/x")

    assert outcome.status == "retryable"
    assert "ConnectError" in outcome.message
    assert outcome.endpoint == f"http://127.0.0.1:{port}"


def test_redirect_and_bad_urls_are_configuration_failures(service, connector_settings):
    redirect = call(f"{service.url}/redirect")
    assert redirect.status == "failed" and "302" in redirect.message
    assert service.hits["/echo"] == 0

    assert call("ftp://example.org/file").status == "failed"
    assert call("/relative/path").status == "failed"
    no_url = execute(CallRequest("http", {"method": "POST"}, {}, "k", 1.0))
    assert no_url.status == "failed" and "url" in no_url.message


def test_body_that_is_not_json_fails_without_a_request(service, connector_settings):
    outcome = call(f"{service.url}/echo", body={"when": object()})

    assert outcome.status == "failed" and "not JSON" in outcome.message
    assert service.total() == 0


def test_endpoint_is_scheme_host_and_port(connector_settings):
    from runtime.connectors.http import HttpConnector

    def endpoint(url):
        return HttpConnector().endpoint(CallRequest("http", {"url": url}, {}, "k", 1.0))

    assert endpoint("https://pay.example.com/v1/charge?x=1") == "https://pay.example.com:443"
    assert endpoint("http://shop.local/api") == "http://shop.local:80"
    assert endpoint("http://127.0.0.1:8001/a") == "http://127.0.0.1:8001"


def test_the_pooled_transport_reuses_its_connection(service, connector_settings):
    assert pool() is pool()
    call(f"{service.url}/echo")
    call(f"{service.url}/echo")

    ports = {r["client_port"] for r in service.requests}
    assert len(ports) == 1


def test_literal_headers_arrive_as_json_text(service, connector_settings):
    assert call(f"{service.url}/echo", headers='{"X-Tenant": "acme"}').status == "ok"
    assert service.requests[-1]["headers"]["X-Tenant"] == "acme"

    bad = call(f"{service.url}/echo", headers="X-Tenant: acme")
    assert bad.status == "failed" and "headers" in bad.message
    assert call(f"{service.url}/echo", headers=["X-Tenant"]).status == "failed"
