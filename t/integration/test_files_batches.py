"""Files and batches relayed to the files provider (docs/design.md §21) with the official openai SDK:
upload (multipart), list, retrieve, content, delete; batches create, retrieve, list, cancel. A file
or batch is served later by the key that created it, on any node of a fleet (stateless client ids);
forged, foreign and unknown ids are 404 in OpenAI's shape and never reach a provider."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from helpers import Snapshot, http_request, run_sdk
from mock_provider import OpenAIEndpoints, Reply


def run_endpoints(job: dict) -> dict:
    return run_sdk(job, script="openai_endpoints.mjs")


class Fleet:
    def __init__(self, gw_factory, mocks, keys: int = 2, files_provider: str | None = "openai"):
        self.mock = mocks.new("oa")
        self.ep = OpenAIEndpoints(self.mock)
        s = Snapshot()
        p = s.provider("openai", "openai", self.mock.base_url())
        # equal weights: consecutive uploads spread over both keys
        self.secrets = [s.key(p, label=f"K{i}") for i in range(keys)]
        s.model(p, "*")
        if files_provider:
            s.settings["files_provider"] = files_provider
        self.team2 = s.team("other")
        self.vk = s.vkey()
        self.vk_other_team = s.vkey(team_id=self.team2)
        self.snap = s
        self.nodes = [gw_factory(), gw_factory()]
        for g in self.nodes:
            g.push(s)

    def job(self, node: int, mode: str, key: str | None = None, **fields) -> dict:
        return run_endpoints({"baseURL": self.nodes[node].base_url, "apiKey": key or self.vk, "mode": mode, **fields})

    def upload(self, node: int, tmp_path, content: bytes, purpose: str = "batch", name: str = "in.jsonl") -> dict:
        path = tmp_path / name
        path.write_bytes(content)
        res = self.job(node, "file_upload", filePath=str(path), purpose=purpose)
        assert "error" not in res, res
        return res["file"]

    def no_virtual_key_upstream(self):
        for req in self.mock.requests:
            assert not req.carries(self.vk) and not req.carries(self.vk_other_team), req.target


@pytest.fixture
def fleet(gw_factory, mocks, sdk):
    return Fleet(gw_factory, mocks)


def batch_lines() -> bytes:
    line = {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}}
    return (json.dumps(line) + "\n").encode()


def test_files_across_nodes_land_on_the_creating_key(fleet, tmp_path):
    contents = [os.urandom(3000 + i) for i in range(4)]
    files = [fleet.upload(i % 2, tmp_path, c, purpose="assistants", name=f"f{i}.bin") for i, c in enumerate(contents)]
    creators = []
    for f, c in zip(files, contents):
        assert f["id"].startswith("file-rs1-") and f["bytes"] == len(c), f
        owner = [s for s in fleet.secrets if any(m["meta"]["bytes"] == len(c) for m in fleet.ep.files.get(s, {}).values())]
        assert len(owner) == 1
        creators.append(owner[0])
    assert set(creators) == set(fleet.secrets), "uploads should spread over both keys"
    for i, (f, c, creator) in enumerate(zip(files, contents, creators)):
        node = (i + 1) % 2  # read on the other node
        got = fleet.job(node, "file_get", id=f["id"])
        assert "error" not in got and got["file"]["id"] == f["id"] and got["file"]["filename"] == f"f{i}.bin", got
        assert fleet.mock.requests[-1].auth_secret() == creator
        body = fleet.job(node, "file_content", id=f["id"])
        assert body["sha256"] == hashlib.sha256(c).hexdigest() and body["bytes"] == len(c), body
        assert fleet.mock.requests[-1].auth_secret() == creator
    listed = fleet.job(1, "file_list")
    assert "error" not in listed, listed
    for item in listed["files"]:
        assert item["id"].startswith("file-rs1-"), item  # every id in a list leads back to its key
    deleted = fleet.job(1, "file_delete", id=files[0]["id"])
    assert deleted["deleted"]["deleted"] is True and deleted["deleted"]["id"] == files[0]["id"], deleted
    gone = fleet.job(0, "file_get", id=files[0]["id"])
    assert gone["error"]["status"] == 404, gone
    fleet.no_virtual_key_upstream()


def test_batches_create_read_list_cancel_across_nodes(fleet, tmp_path):
    f = fleet.upload(0, tmp_path, batch_lines())
    created = fleet.job(0, "batch_create", request={"input_file_id": f["id"], "endpoint": "/v1/chat/completions",
                                                      "completion_window": "24h"})
    assert "error" not in created, created
    b = created["batch"]
    assert b["id"].startswith("batch_rs1-") and b["input_file_id"] == f["id"] and b["status"] == "validating", b
    up = fleet.mock.requests[-1]
    assert up.path == "/v1/batches" and up.json["input_file_id"].startswith("file-oa"), up.json
    creator = up.auth_secret()
    got = fleet.job(1, "batch_get", id=b["id"])
    assert "error" not in got and got["batch"]["id"] == b["id"] and got["batch"]["input_file_id"] == f["id"], got
    assert fleet.mock.requests[-1].auth_secret() == creator
    cancelled = fleet.job(1, "batch_cancel", id=b["id"])
    assert cancelled["batch"]["status"] == "cancelling", cancelled
    assert fleet.mock.requests[-1].path.endswith("/cancel") and fleet.mock.requests[-1].auth_secret() == creator
    for node in (0, 1):
        listed = fleet.job(node, "batch_list")
        assert "error" not in listed, listed
        assert all(x["id"].startswith("batch_rs1-") for x in listed["batches"]), listed
    fleet.no_virtual_key_upstream()


def test_forged_foreign_and_unknown_ids(fleet, tmp_path):
    f = fleet.upload(0, tmp_path, b"hello", purpose="assistants")
    before = len(fleet.mock.requests)
    # another team's caller cannot use the id
    other = fleet.job(1, "file_get", key=fleet.vk_other_team, id=f["id"])
    assert other["error"]["status"] == 404, other
    port = fleet.nodes[1].port
    auth = {"Authorization": f"Bearer {fleet.vk}"}
    key_ids = [fleet.snap.key_id(s) for s in fleet.secrets]
    prefix, rest = f["id"][: len("file-rs1-")], f["id"][len("file-rs1-"):]
    kid, tail = rest.split("-", 1)
    other_kid = str(key_ids[1] if int(kid) == key_ids[0] else key_ids[0])
    for bad in (prefix + other_kid + "-" + tail,           # pointed at the other key
                prefix + "999999-" + tail,                 # no such key
                "file-oa0001",                             # a provider's raw id
                f["id"][:-2],                              # truncated
                "batch_rs1-" + rest):                      # a file id as a batch id
        path = f"/v1/batches/{bad}" if bad.startswith("batch_") else f"/v1/files/{bad}"
        r = http_request(port, "GET", path, None, headers=auth)
        assert r.status == 404, (bad, r.describe())
        assert r.json["error"]["type"] == "invalid_request_error" and "No such" in r.json["error"]["message"], r.json
    # a batch whose input file id is forged never reaches a provider either
    r = http_request(port, "POST", "/v1/batches", {"input_file_id": prefix + other_kid + "-" + tail,
                                                    "endpoint": "/v1/chat/completions", "completion_window": "24h"},
                     headers=auth)
    assert r.status == 404, r.describe()
    r = http_request(port, "POST", "/v1/batches", {"endpoint": "/v1/chat/completions", "completion_window": "24h"},
                     headers=auth)
    assert r.status == 400 and r.json["error"]["param"] == "input_file_id", r.describe()
    assert len(fleet.mock.requests) == before
    fleet.no_virtual_key_upstream()


def test_upload_fails_over_and_lands_on_the_second_key(fleet, tmp_path):
    fleet.ep.fail_next("/v1/files", Reply.error(500, "boom"))
    f = fleet.upload(0, tmp_path, b"x" * 100, purpose="assistants")
    failed, served = fleet.mock.requests[-2], fleet.mock.requests[-1]
    assert failed.auth_secret() != served.auth_secret()
    assert any(m["meta"]["bytes"] == 100 for m in fleet.ep.files.get(served.auth_secret(), {}).values())
    got = fleet.job(1, "file_get", id=f["id"])
    assert "error" not in got and fleet.mock.requests[-1].auth_secret() == served.auth_secret(), got
    e = fleet.nodes[0].wait_access(1, where=lambda x: x["statuses"] == "500,200")
    assert e, e


def test_files_provider_must_be_configured(gw_factory, mocks, sdk, tmp_path):
    fl = Fleet(gw_factory, mocks, keys=1, files_provider=None)
    r = http_request(fl.nodes[0].port, "GET", "/v1/files", None, headers={"Authorization": f"Bearer {fl.vk}"})
    assert r.status == 400 and r.json["error"]["code"] == "files_provider_not_configured", r.describe()
    assert not fl.mock.requests


def test_lists_show_only_the_caller_s_team(gw_factory, mocks, sdk, tmp_path):
    """One files-provider account holds every team's files and batches: each team lists only its
    own (marked on the way in: filename prefix, batch metadata), sees its own filenames and metadata,
    and pages through its own objects with the SDK's auto-pagination."""
    fl = Fleet(gw_factory, mocks, keys=1)
    team_a, team_b = 1, fl.team2
    a_files = [fl.upload(0, tmp_path, batch_lines(), name=f"a{i}.jsonl") for i in range(3)]
    b_files = [fl.job(1, "file_upload", key=fl.vk_other_team, filePath=str(tmp_path / "a0.jsonl"),
                      purpose="batch")["file"] for _ in range(2)]
    held = list(fl.ep.files[fl.secrets[0]].values())
    # the provider holds the marked names; clients see theirs
    assert sorted(f["meta"]["filename"] for f in held) == sorted(
        [f"rs-t{team_a}-a{i}.jsonl" for i in range(3)] + [f"rs-t{team_b}-a0.jsonl"] * 2), held
    assert [f["filename"] for f in a_files] == ["a0.jsonl", "a1.jsonl", "a2.jsonl"], a_files
    # a file the account holds from elsewhere (no mark) is in no team's list
    fl.ep.files[fl.secrets[0]]["file-outside"] = {"meta": {"id": "file-outside", "object": "file", "bytes": 3,
                                                          "created_at": 1, "filename": "outside.jsonl",
                                                          "purpose": "batch", "status": "processed"},
                                                 "content": b"{}\n"}
    mine = fl.job(0, "file_list")
    assert sorted(f["id"] for f in mine["files"]) == sorted(f["id"] for f in a_files), mine
    assert {f["filename"] for f in mine["files"]} == {"a0.jsonl", "a1.jsonl", "a2.jsonl"}, mine
    theirs = fl.job(1, "file_list", key=fl.vk_other_team)
    assert sorted(f["id"] for f in theirs["files"]) == sorted(f["id"] for f in b_files), theirs
    assert fl.mock.requests[-1].query_params["limit"] == ["10000"]
    # pages of 2 of team A's objects: the provider is asked for its largest page and the answer cut
    paged = fl.job(0, "file_list_all", query={"limit": 2})
    assert sorted(f["id"] for f in paged["files"]) == sorted(f["id"] for f in a_files), paged
    first = fl.job(0, "file_list", query={"limit": 2})
    assert len(first["files"]) == 2 and first["hasMore"] is True, first
    # another team's file cannot be read with the ids a list gave team A
    assert fl.job(1, "file_get", key=fl.vk_other_team, id=a_files[0]["id"])["error"]["status"] == 404

    # batches: the client's metadata kept, the team's mark added at the provider and removed again
    created = []
    for i in range(3):
        res = fl.job(0, "batch_create", request={"input_file_id": a_files[i]["id"], "endpoint": "/v1/chat/completions",
                                                 "completion_window": "24h",
                                                 **({"metadata": {"job": f"n{i}"}} if i else {})})
        assert "error" not in res, res
        created.append(res["batch"])
    assert created[0]["metadata"] is None and created[1]["metadata"] == {"job": "n1"}, created
    upstream = fl.mock.requests[-1].json
    assert upstream["metadata"] == {"routeshift_team": str(team_a), "job": "n2"}, upstream
    other = fl.job(1, "batch_create", key=fl.vk_other_team,
                   request={"input_file_id": b_files[0]["id"], "endpoint": "/v1/chat/completions",
                            "completion_window": "24h"})
    assert "error" not in other, other
    listed = fl.job(0, "batch_list_all", query={"limit": 2})
    assert sorted(b["id"] for b in listed["batches"]) == sorted(b["id"] for b in created), listed
    assert all("routeshift_team" not in (b["metadata"] or {}) for b in listed["batches"]), listed
    assert [b["id"] for b in fl.job(1, "batch_list", key=fl.vk_other_team)["batches"]] == [other["batch"]["id"]]
    got = fl.job(1, "batch_get", id=created[1]["id"])
    assert got["batch"]["metadata"] == {"job": "n1"}, got
    # the gateway's metadata key is reserved
    before = len(fl.mock.requests)
    r = http_request(fl.nodes[0].port, "POST", "/v1/batches",
                     {"input_file_id": a_files[0]["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h",
                      "metadata": {"routeshift_team": str(team_b)}}, headers={"Authorization": f"Bearer {fl.vk}"})
    assert r.status == 400 and r.json["error"]["param"] == "metadata" and "reserved" in r.json["error"]["message"], \
        r.describe()
    assert len(fl.mock.requests) == before
    fl.no_virtual_key_upstream()
