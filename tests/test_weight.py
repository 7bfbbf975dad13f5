"""What a phone keeps to work offline stays within its budgets (sizes are deterministic: no timing here).

The measure is the bench's own (bench/bench_weight.py), so the figures the README quotes and the
ones this test checks cannot drift apart, and the script cannot rot unnoticed.
"""

from __future__ import annotations

import importlib.util

import pytest

from outreach.settings import REPO_ROOT


@pytest.fixture(scope="module")
def bench_weight():
    spec = importlib.util.spec_from_file_location("bench_weight", REPO_ROOT / "bench" / "bench_weight.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _heaviest(rows) -> str:
    return ", ".join(f"{url} {packed} B" for url, _, packed in sorted(rows, key=lambda r: -r[2])[:5])


def test_the_precached_app_fits_its_budget(client, bench_weight):
    rows = bench_weight.measure(client)
    total, _ = bench_weight.totals(rows)
    assert total <= bench_weight.BUDGET_TOTAL, f"precached app {total} B compressed; heaviest: {_heaviest(rows)}"


def test_the_javascript_fits_its_budget(client, bench_weight):
    rows = [row for row in bench_weight.measure(client) if row[0].endswith(".js")]
    _, js = bench_weight.totals(rows)
    assert js <= bench_weight.BUDGET_JS, f"JavaScript {js} B compressed; heaviest: {_heaviest(rows)}"


def test_the_measure_counts_what_the_service_worker_keeps_once_each(client, bench_weight):
    urls = [url for url, _, _ in bench_weight.measure(client)]
    assert len(urls) == len(set(urls))
    assert {"/sw.js", "/app", "/report", "/static/app.css", "/static/js/outbox.js"} <= set(urls)
    # Installing fetches these online; the app's cache does not hold them.
    assert not {url for url, _, _ in bench_weight.install_only(client)} & set(urls)


def test_the_bench_script_prints_the_budgets(bench_weight, capsys):
    code = bench_weight.main()
    out = capsys.readouterr().out
    assert "precached app, compressed:" in out and "JavaScript, compressed:" in out
    assert code == 0, out
