"""GET /v1/files and GET /v1/batches follow the provider's pages (docs/design.md §21, "Teams in one
provider account"): the files provider's account holds every team's objects, and one client list
call asks the provider for as many pages as it takes to fill the caller's page with the caller's
own objects (at most 50 batch pages / 10 file pages per call). The official openai SDK's
auto-pagination, strict OpenAI-like paging at the mock (limit, after, has_more, first_id/last_id;
page sizes capped lower than OpenAI's where that exercises paging with few objects)."""

from __future__ import annotations

import json

import pytest

from helpers import Snapshot, http_request, run_sdk
from mock_provider import OpenAIEndpoints, Reply


def run_endpoints(job: dict) -> dict:
    return run_sdk(job, script="openai_endpoints.mjs")


class Account:
    """One files-provider key whose account two teams share, one gateway node."""

    def __init__(self, gw_factory, mocks):
        self.mock = mocks.new("oa")
        self.ep = OpenAIEndpoints(self.mock)
        s = Snapshot()
        p = s.provider("openai", "openai", self.mock.base_url())
        # no cooldown: a failed later page parks the key like any failed attempt, and the fault
        # tests go on with the same key
        self.secret = s.key(p, label="K0", cooldown_seconds=0)
        s.model(p, "*")
        s.settings["files_provider"] = "openai"
        self.team_b = s.team("team-b")
        self.vk_a = s.vkey()
        self.vk_b = s.vkey(team_id=self.team_b)
        self.gw = gw_factory()
        self.gw.push(s)

    def job(self, key: str, mode: str, **fields) -> dict:
        res = run_endpoints({"baseURL": self.gw.base_url, "apiKey": key, "mode": mode, **fields})
        return res

    def ok(self, key: str, mode: str, **fields) -> dict:
        res = self.job(key, mode, **fields)
        assert "error" not in res, res
        return res

    def batch_input_files(self, tmp_path) -> tuple[dict, dict]:
        """An input file of team A's and one of team B's."""
        lines = tmp_path / "in.jsonl"
        lines.write_bytes(batch_lines())
        return tuple(self.ok(vk, "file_upload", filePath=str(lines), purpose="batch")["file"]
                     for vk in (self.vk_a, self.vk_b))

    def list_calls(self, path: str) -> list:
        return [r for r in self.mock.requests if r.method == "GET" and r.path == path]

    def get(self, key: str, path: str):
        return http_request(self.gw.port, "GET", path, None, headers={"Authorization": f"Bearer {key}"})

    def no_virtual_key_upstream(self):
        for req in self.mock.requests:
            assert not req.carries(self.vk_a) and not req.carries(self.vk_b), req.target


def batch_lines() -> bytes:
    line = {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}}
    return (json.dumps(line) + "\n").encode()


def batch_request(file_id: str) -> dict:
    return {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}


@pytest.fixture
def account(gw_factory, mocks, sdk):
    return Account(gw_factory, mocks)


def test_batches_behind_another_team_s_pages(account, tmp_path):
    acc = account
    file_a, file_b = acc.batch_input_files(tmp_path)
    a_batches = acc.ok(acc.vk_a, "batch_create_many", request=batch_request(file_a["id"]), count=250)["batches"]
    b_batches = acc.ok(acc.vk_b, "batch_create_many", request=batch_request(file_b["id"]), count=3)["batches"]
    a_ids = [b["id"] for b in a_batches]
    b_ids = [b["id"] for b in b_batches]

    # team B: its 3 batches sit behind 250 of team A's (provider pages of 100): the SDK's
    # auto-pagination gets exactly them, from one client call of 3 provider pages
    before = len(acc.list_calls("/v1/batches"))
    got = acc.ok(acc.vk_b, "batch_list_all")["batches"]
    assert [b["id"] for b in got] == b_ids, got
    assert all(b["id"].startswith("batch_rs1-") and b["metadata"] is None for b in got), got
    calls = acc.list_calls("/v1/batches")[before:]
    assert len(calls) == 3, [c.target for c in calls]
    assert "after" not in calls[0].query_params and all(c.query_params["limit"] == ["100"] for c in calls)
    # later pages start after the provider's own last id of the page before
    assert calls[1].query_params["after"][0].startswith("batch_oa") and \
        calls[2].query_params["after"][0].startswith("batch_oa"), [c.target for c in calls]
    assert all(c.auth_secret() == acc.secret for c in calls)
    entry = acc.gw.wait_access(1, where=lambda e: e["statuses"] == "200,200,200")[-1]
    assert entry["status"] == "200" and entry["attempts"] == "3", entry

    # team A: a page of 10 is one provider page; all 250 with the SDK, in order
    page = acc.ok(acc.vk_a, "batch_list", query={"limit": 10})
    assert [b["id"] for b in page["batches"]] == a_ids[:10], page
    raw = acc.get(acc.vk_a, "/v1/batches?limit=10")
    assert raw.status == 200 and raw.json["has_more"] is True and raw.json["last_id"] == a_ids[9], raw.describe()
    every = acc.ok(acc.vk_a, "batch_list_all")["batches"]
    assert [b["id"] for b in every] == a_ids, len(every)

    # the bound: 50 provider pages per client call (pages of 4 here: 200 batches scanned, all of
    # team A's). B's call answers an empty page whose last_id continues where the scan stopped.
    acc.ep.page_caps["batches"] = 4
    before = len(acc.list_calls("/v1/batches"))
    bounded = acc.get(acc.vk_b, "/v1/batches")
    assert bounded.status == 200, bounded.describe()
    body = bounded.json
    assert body["data"] == [] and body["has_more"] is True and body["first_id"] is None, body
    assert body["last_id"].startswith("batch_rs1-"), body
    assert len(acc.list_calls("/v1/batches")) - before == 50
    # the SDK's auto-pagination stops at an empty page: documented; `after` = last_id goes on
    sdk_page = acc.ok(acc.vk_b, "batch_list_all")["batches"]
    assert sdk_page == [], sdk_page
    went_on = acc.ok(acc.vk_b, "batch_list", query={"after": body["last_id"]})["batches"]
    assert [b["id"] for b in went_on] == b_ids, went_on
    # the cursor names no object: it reads no batch of team A's (404 before any provider call)
    before = len(acc.mock.requests)
    refused = acc.get(acc.vk_b, f"/v1/batches/{body['last_id']}")
    assert refused.status == 404 and refused.json["error"]["type"] == "invalid_request_error", refused.describe()
    assert len(acc.mock.requests) == before
    # and team A cannot use team B's cursor
    assert acc.get(acc.vk_a, f"/v1/batches?after={body['last_id']}").status == 404
    acc.no_virtual_key_upstream()


def test_a_later_page_fails(account, tmp_path):
    acc = account
    file_a, file_b = acc.batch_input_files(tmp_path)
    a_ids = [b["id"] for b in acc.ok(acc.vk_a, "batch_create_many", request=batch_request(file_a["id"]),
                                     count=6)["batches"]]
    acc.ok(acc.vk_b, "batch_create_many", request=batch_request(file_b["id"]), count=2)
    acc.ep.page_caps["batches"] = 4

    # items kept before the failure: they are the answer, has_more true (the SDK goes on from there)
    acc.ep.fail_next("/v1/batches", None, Reply.error(500, "boom"))
    r = acc.get(acc.vk_a, "/v1/batches?limit=100")
    assert r.status == 200, r.describe()
    assert [b["id"] for b in r.json["data"]] == a_ids[:4] and r.json["has_more"] is True, r.json
    assert r.json["last_id"] == a_ids[3] and (r.header("content-type") or "").startswith("application/json")
    acc.gw.wait_access(1, where=lambda e: e["statuses"] == "200,500")
    # a later page on a pooled connection the provider closes at once: nginx's retry of a stale
    # connection, on the same key, and the call goes on
    acc.ep.fail_next("/v1/batches", None, Reply.drop())
    r = acc.get(acc.vk_a, "/v1/batches?limit=100")
    assert r.status == 200 and [b["id"] for b in r.json["data"]] == a_ids and not r.json["has_more"], r.describe()
    assert all(c.auth_secret() == acc.secret for c in acc.list_calls("/v1/batches"))
    # a later page whose connection breaks after a while (not a stale one): what was kept
    acc.ep.fail_next("/v1/batches", None, Reply.drop(delay=0.4))
    r = acc.get(acc.vk_a, "/v1/batches?limit=100")
    assert r.status == 200 and [b["id"] for b in r.json["data"]] == a_ids[:4] and r.json["has_more"], r.describe()
    # nothing kept before the failure: the usual error, in OpenAI's shape
    acc.ep.fail_next("/v1/batches", None, Reply.error(500, "boom"))
    failed = acc.job(acc.vk_b, "batch_list")
    assert failed["error"]["status"] == 502 and "answered HTTP 500" in failed["error"]["message"], failed
    # the provider's pages, undisturbed, still give B its two
    assert len(acc.ok(acc.vk_b, "batch_list")["batches"]) == 2
    acc.no_virtual_key_upstream()


def test_files_behind_another_team_s_pages(account, tmp_path):
    acc = account
    acc.ep.page_caps["files"] = 5  # OpenAI pages up to 10000 files: smaller pages, fewer uploads
    data = tmp_path / "doc.txt"
    data.write_bytes(b"hello")
    a_ids = [f["id"] for f in acc.ok(acc.vk_a, "file_upload_many", filePath=str(data), purpose="assistants",
                                     count=12)["files"]]
    b_ids = [f["id"] for f in acc.ok(acc.vk_b, "file_upload_many", filePath=str(data), purpose="assistants",
                                     count=2)["files"]]
    before = len(acc.list_calls("/v1/files"))
    got = acc.ok(acc.vk_b, "file_list_all")["files"]
    assert [f["id"] for f in got] == b_ids and all(f["filename"] == "doc.txt" for f in got), got
    assert len(acc.list_calls("/v1/files")) - before == 3  # pages of 5, 5 and 4
    page = acc.ok(acc.vk_a, "file_list", query={"limit": 10})
    assert [f["id"] for f in page["files"]] == a_ids[:10] and page["hasMore"] is True, page
    every = acc.ok(acc.vk_a, "file_list_all", query={"limit": 5})["files"]
    assert [f["id"] for f in every] == a_ids, every
    acc.no_virtual_key_upstream()
