"""`/instances/`: filters, keyset pagination in both directions, counts, and a query
budget that does not grow with the number of rows."""
import pytest
from django.contrib.auth.models import User

from runtime.models import ProcessInstance

from tests.runtime.instance_pages import bare_instance, bare_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client, db):
    user = User.objects.create_superuser("root", email="", password=None)
    client.force_login(user)
    return user


def _keys(response):
    return [i.business_key for i in response.context["page"].rows]


def test_filters_by_status_process_business_key_prefix_and_incident(client, root):
    loans, orders = bare_version("loans"), bare_version("orders")
    bare_instance(loans, business_key="L-1")
    bare_instance(loans, business_key="L-2", status="completed")
    bare_instance(orders, business_key="O-1", has_incident=True)
    bare_instance(orders, business_key="XL-1")
    assert _keys(client.get("/instances/?status=completed")) == ["L-2"]
    assert _keys(client.get("/instances/?process=orders")) == ["XL-1", "O-1"]
    assert _keys(client.get("/instances/?q=L-")) == ["L-2", "L-1"]  # prefix: XL-1 does not match
    assert _keys(client.get("/instances/?incident=1")) == ["O-1"]
    assert _keys(client.get("/instances/?process=loans&status=running")) == ["L-1"]
    assert _keys(client.get("/instances/?status=bogus")) == ["XL-1", "O-1", "L-2", "L-1"]


def test_counts_per_status_ignore_the_status_filter_but_keep_the_others(client, root):
    loans, orders = bare_version("loans"), bare_version("orders")
    for status in ("running", "running", "completed", "failed"):
        bare_instance(loans, status=status)
    bare_instance(orders, status="running")
    page = client.get("/instances/?process=loans&status=completed").context["page"]
    assert page.counts == {"running": 2, "completed": 1, "failed": 1}
    body = client.get("/instances/?process=loans").content.decode()
    assert 'data-status="failed">failed</span> <span class="count">1</span>' in body


def test_keyset_pages_walk_older_and_back_newer(client, root):
    version = bare_version()
    made = [bare_instance(version, business_key=f"k{n:03}") for n in range(120)]
    newest_first = [i.business_key for i in reversed(made)]
    first = client.get("/instances/")
    assert _keys(first) == newest_first[:50]
    page = first.context["page"]
    assert page.newer is None and page.older == made[70].pk
    second = client.get(f"/instances/?before={page.older}")
    assert _keys(second) == newest_first[50:100]
    third = client.get(f"/instances/?before={second.context['page'].older}")
    assert _keys(third) == newest_first[100:] and third.context["page"].older is None
    back = client.get(f"/instances/?after={third.context['page'].newer}")
    assert _keys(back) == newest_first[50:100]
    assert _keys(client.get(f"/instances/?after={back.context['page'].newer}")) == newest_first[:50]


def test_pager_links_keep_the_filters(client, root):
    version = bare_version()
    for n in range(60):
        bare_instance(version, business_key=f"B-{n}")
    body = client.get("/instances/?q=B-&status=running").content.decode()
    assert "?status=running&amp;q=B-&amp;before=" in body


def test_htmx_filter_request_gets_only_the_results(client, root):
    bare_instance(bare_version(), business_key="only")
    response = client.get("/instances/?status=running", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="instance-results")
    body = response.content.decode()
    assert "<html" not in body and 'id="instance-table"' in body
    assert 'id="filter-status" value="running" hx-swap-oob="true"' in body


def test_query_count_does_not_grow_with_rows(client, root, django_assert_max_num_queries):
    version = bare_version()
    for n in range(80):
        bare_instance(version, business_key=f"q{n}")
    with django_assert_max_num_queries(8):
        response = client.get("/instances/")
    assert len(response.context["page"].rows) == 50


def test_empty_list_says_so(client, root):
    assert "No instances" in client.get("/instances/").content.decode()
    assert ProcessInstance.objects.count() == 0


def test_home_tile_counts_running_and_incidents(client, root):
    version = bare_version()
    bare_instance(version)
    bare_instance(version, has_incident=True)
    bare_instance(version, status="completed", has_incident=True)  # ended: no longer an incident to act on
    tiles = {t["title"]: t for t in client.get("/").context["tiles"]}
    assert tiles["Instances"]["text"].startswith("2 running, 1 with incidents")
    assert tiles["Instances"]["url"] == "/instances/"
