"""The status page (HTML rendered live in headless Chromium) and the Prometheus endpoint
(`routeshift_metrics;`, checked with promtool and by value) — docs/design.md §14."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest

from browser_cdp import CHROMIUM, Chromium
from helpers import Snapshot, chat_body, free_port, http_request
from mock_provider import Reply

MODEL = "gpt-4o-2024-11-20"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> list[tuple[str, dict, float]]:
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not an exposition-format sample: {line!r}"
        labels = {k: re.sub(r'\\(.)', lambda e: {"n": "\n"}.get(e.group(1), e.group(1)), v)
                  for k, v in _LABEL.findall(m.group(2) or "")}
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples


def value(samples, name: str, **labels) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
    want = {k: str(v) for k, v in labels.items()}
    return sum(v for n, ls, v in samples if n == name and all(ls.get(k) == x for k, x in want.items()))


class MetricsWorld:
    def __init__(self, gw, port, mock, snap, vkey, key_a, key_b, provider_id):
        self.gw, self.port, self.mock, self.snap, self.vkey = gw, port, mock, snap, vkey
        self.key_a, self.key_b, self.provider_id = key_a, key_b, provider_id

    def scrape(self):
        r = http_request(self.port, "GET", "/metrics")
        assert r.status == 200, r.describe()
        return r


@pytest.fixture
def world(gw_factory, mocks):
    port = free_port()
    gw = gw_factory(http_extra=f"server {{ listen 127.0.0.1:{port}; "
                               f"location = /metrics {{ routeshift_metrics; }} }}")
    a = mocks.new("a")
    s = Snapshot(retry_budget=2)
    p = s.provider("openai", "openai", a.base_url())
    # a label that needs escaping in the exposition format
    key_a = s.key(p, label='primary "eu" \\1', weight=1000)
    key_b = s.key(p, label="backup", weight=1)
    s.model(p, "gpt-4o", MODEL)
    vk = s.vkey()
    snap = s.to_dict()
    snap["model_prices"] = [{"id": 1, "provider_id": p, "model": MODEL,
                             "input_microcents_per_mtok": 250_000_000,
                             "output_microcents_per_mtok": 1_000_000_000,
                             "cached_input_microcents_per_mtok": None, "effective_from": 0}]
    gw.push(snap)
    return MetricsWorld(gw, port, a, s, vk, key_a, key_b, p)


def test_metrics_promtool_valid_and_counters_move(world):
    w = world
    before = parse_metrics(w.scrape().body.decode())
    assert value(before, "routeshift_requests_total") == 0
    # 1: key A (weight 1000) answers 429 + Retry-After, the retry goes to key B
    w.mock.enqueue(Reply.error(429, "slow down", headers={"Retry-After": "20"}), key=w.key_a)
    r = w.gw.chat(chat_body("gpt-4o"), key=w.vkey)
    assert r.status == 200, r.describe()
    # 2: key A cools down: key B again
    r = w.gw.chat(chat_body("gpt-4o"), key=w.vkey)
    assert r.status == 200, r.describe()
    # 3: a bad virtual key: the gateway answers by itself
    r = w.gw.chat(chat_body("gpt-4o"), key="sk-proxy-not-a-key")
    assert r.status == 401, r.describe()
    # counted in the log phase, which may end after the client has its answer (and the scrape
    # may reach another worker first): wait until the three requests are logged
    w.gw.wait_access(3)

    resp = w.scrape()
    assert resp.header("Content-Type").startswith("text/plain; version=0.0.4"), resp.describe()
    assert resp.header("Cache-Control") == "no-store"
    text = resp.body.decode()
    for secret in w.snap.secrets + w.snap.vkeys:
        assert secret not in text, "a secret in the metrics"

    check = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True,
                           timeout=30)
    assert check.returncode == 0, f"promtool: {check.stdout.decode()}{check.stderr.decode()}\n{text}"

    m = parse_metrics(text)
    id_a, id_b = w.snap.key_id(w.key_a), w.snap.key_id(w.key_b)
    ok = dict(provider="openai", model=MODEL)
    assert value(m, "routeshift_requests_total", code="200", **{"class": "2xx"}, **ok) == 2
    assert value(m, "routeshift_requests_total", provider="none", model="none", code="401") == 1
    assert value(m, "routeshift_request_duration_seconds_count", **ok) == 2
    assert value(m, "routeshift_request_duration_seconds_bucket", le="+Inf", **ok) == 2
    assert value(m, "routeshift_request_ttfb_seconds_count", **ok) == 2
    # the mock reports 11 prompt + 7 completion tokens per answer: 2750 + 7000 microcents each
    assert value(m, "routeshift_tokens_total", direction="input", **ok) == 22
    assert value(m, "routeshift_tokens_total", direction="output", **ok) == 14
    assert value(m, "routeshift_cost_microcents_total", **ok) == 2 * 9750

    a = dict(provider="openai", key_id=id_a, key='primary "eu" \\1')
    b = dict(provider="openai", key_id=id_b, key="backup")
    assert value(m, "routeshift_attempts_total", code="429", **a) == 1
    assert value(m, "routeshift_attempts_total", **a) == 1
    assert value(m, "routeshift_attempts_total", code="200", **b) == 2
    assert value(m, "routeshift_retries_total", **b) == 1
    assert value(m, "routeshift_retries_total", **a) == 0
    assert value(m, "routeshift_cooldowns_total", **a) == 1
    assert value(m, "routeshift_key_cooldown_active", **a) == 1
    assert value(m, "routeshift_key_cooldown_active", **b) == 0
    assert 10 < value(m, "routeshift_key_cooldown_remaining_seconds", **a) <= 20
    assert value(m, "routeshift_keys_cooling_down") == 1
    assert value(m, "routeshift_key_circuit_state", state="closed", **a) == 1
    assert value(m, "routeshift_key_circuit_state", state="open", **a) == 0
    assert value(m, "routeshift_key_inflight", **b) == 0
    assert value(m, "routeshift_key_tokens_total", direction="input", **b) == 22
    assert value(m, "routeshift_key_cost_microcents_total", **b) == 2 * 9750
    assert value(m, "routeshift_attempt_duration_seconds_count", **b) == 2
    assert value(m, "routeshift_attempt_ttfb_seconds_count", **a) == 1
    assert value(m, "routeshift_config_generation") == w.gw.generation()
    assert 0 <= value(m, "routeshift_config_age_seconds") < 60
    # the escaped label as written on the wire
    assert 'key="primary \\"eu\\" \\\\1"' in text


def test_metrics_location_is_not_the_admin_api(world):
    r = http_request(world.port, "GET", "/admin/status")
    assert r.status == 404, r.describe()
    r = http_request(world.port, "POST", "/metrics", body={"x": 1})
    assert r.status == 405, r.describe()
    r = http_request(world.port, "HEAD", "/metrics")
    assert r.status == 200 and not r.body, r.describe()


def test_status_page_headers_and_no_secrets(basic):
    gw = basic.gw
    for path in ("/admin/", "/admin/status.html"):
        r = gw.admin("GET", path)
        assert r.status == 200, r.describe()
        assert r.header("Content-Type").startswith("text/html"), r.describe()
        csp = r.header("Content-Security-Policy") or ""
        assert "default-src 'none'" in csp and "connect-src 'self'" in csp, csp
        assert "http" not in csp, "the page may load nothing from elsewhere"
        assert r.header("Cache-Control") == "no-store"
        page = r.body.decode()
        assert basic.secret not in page
        assert not re.search(r'(src|href)="?(https?:)?//', page), "an external asset in the page"
    st = gw.status()
    assert isinstance(st["now"], int) and st["now"] >= st["applied_at"] > 0


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed")
def test_status_page_renders_live_cooldown_in_chromium(basic, tmp_path):
    gw, mock = basic.gw, basic.mock
    kid = basic.snap.key_id(basic.secret)
    browser = Chromium(tmp_path / "chromium")
    try:
        page = browser.open_page(f"http://127.0.0.1:{gw.admin_port}/admin/")
        row = f'document.querySelector(\'#keys tr[data-key-id="{kid}"]\')'
        field = lambda name: f'{row}.querySelector(\'td[data-field="{name}"]\')'
        cooldown = f'Number({field("cooldown")}.dataset.remainingMs)'
        page.wait_for(f"{row} !== null && {cooldown} === 0 && {field('last_status')}.textContent === '–'")
        page.evaluate("window.__sameDocument = true")

        # a 429 with Retry-After parks the key; the open page picks it up on its next read
        mock.enqueue(Reply.error(429, "slow down", headers={"Retry-After": "30"}))
        r = basic.chat(chat_body("gpt-4o"))
        assert r.status in (429, 503), r.describe()
        page.wait_for(f"{cooldown} > 0")
        first = page.evaluate(cooldown)
        cells = page.evaluate(f"Object.fromEntries([...{row}.cells].map(c => [c.dataset.field, c.textContent]))")
        time.sleep(1.5)
        second = page.evaluate(cooldown)
        assert page.evaluate("window.__sameDocument === true"), "the page reloaded instead of updating itself"
        assert 15_000 < first <= 30_000, f"cooldown after Retry-After: 30 should be ~30 s: {first}"
        assert 0 < second <= first - 1_000, f"the cooldown did not count down: {first} -> {second}"
        assert cells["provider"] == "openai" and cells["label"].startswith("main"), cells
        assert cells["last_status"] == "429" and cells["failures"] == "1", cells
        assert cells["breaker"] == "closed" and cells["strategy"] == "weighted_round_robin", cells
        assert cells["cooldown"].endswith(" s"), cells
        assert page.evaluate("document.getElementById('generation').textContent") == str(gw.generation())
        assert page.evaluate("document.getElementById('problem').hidden") is True
        assert page.evaluate("document.getElementById('spool').hidden") is True  # no spool in the JSON
        html = page.evaluate("document.documentElement.outerHTML")
        assert basic.secret not in html

        # the spool object another part of the gateway adds to the JSON, and markup in a label:
        # rendered by the page's own render() (the next read replaces it)
        shown = page.evaluate("""(() => {
            render({generation: 7, applied_at: 100, now: 160, workers: [{}, {}],
                    spool: {backlog_bytes: 3 * 1048576, backlog_files: 4, limit_bytes: 1073741824, dropped_records: 2},
                    keys: [{id: 1, provider: "p", label: "<img src=x onerror=alert(1)>", weight: 1, enabled: true,
                            inflight: 0, cooldown_remaining_ms: 0}]});
            const spool = document.getElementById("spool");
            return {hidden: spool.hidden, text: spool.textContent.replace(/\\s+/g, " ").trim(),
                    images: document.querySelectorAll("#keys img").length,
                    label: document.querySelector('#keys td[data-field="label"]').textContent};
        })()""")
        assert shown["hidden"] is False, shown
        assert "3.0 MiB in 4 files (limit 1.0 GiB), 2 records dropped" in shown["text"], shown
        assert shown["images"] == 0 and shown["label"].startswith("<img"), shown
    finally:
        browser.close()
