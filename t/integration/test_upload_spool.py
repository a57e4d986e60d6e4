"""Multipart uploads through nginx's client-body temp file (docs/design.md §21): beyond
client_body_buffer_size the body is never held whole in a worker; its part headers are read
through windows and every attempt sends the file's own bytes with only the filename prefix / the
model spliced in. The official openai SDK is the client where it can be; byte-exact checks send
raw multipart bodies."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from helpers import Snapshot, raw_request, run_sdk
from mock_provider import OpenAIEndpoints, Reply

BIG = 30 << 20
# a small read buffer makes every body here larger than it: nginx spools them to its temp file
SPOOLING = "client_body_buffer_size 64k; routeshift_max_body_size 40m;"


def run_endpoints(job: dict) -> dict:
    return run_sdk(job, script="openai_endpoints.mjs", timeout=120)


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmHWM for {pid}")


class Uploads:
    def __init__(self, gw_factory, mocks, keys: int = 1, location_extra: str = SPOOLING, tls: bool = False):
        self.gw = gw_factory(workers=1, location_extra=location_extra)
        self.mock = mocks.new("oa", tls=tls)
        self.ep = OpenAIEndpoints(self.mock)
        s = Snapshot()
        p = s.provider("openai", "openai", self.mock.base_url(host="mock-tls.test" if tls else None))
        self.secrets = [s.key(p, label=f"K{i}", cooldown_seconds=30) for i in range(keys)]
        s.model(p, "whisper-alias", "whisper-1")
        s.settings["files_provider"] = "openai"
        self.team = 1
        self.vk = s.vkey(team_id=self.team)
        self.gw.push(s)

    def job(self, mode: str, **fields) -> dict:
        return run_endpoints({"baseURL": self.gw.base_url, "apiKey": self.vk, "mode": mode, **fields})

    def raw_upload(self, path: str, boundary: str, body: bytes):
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.vk}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n").encode()
        return raw_request(self.gw.port, head, body, timeout=60)

    def no_virtual_key_upstream(self):
        for req in self.mock.requests:
            assert not req.carries(self.vk), req.target


def test_large_upload_reaches_the_provider_whole_without_growing_the_worker(gw_factory, mocks, sdk, tmp_path):
    u = Uploads(gw_factory, mocks)
    small = tmp_path / "warm.txt"
    small.write_bytes(b"warm-up")
    assert "error" not in u.job("file_upload", filePath=str(small), purpose="assistants")
    [worker] = u.gw.worker_pids()
    before = peak_rss_kib(worker)
    data = os.urandom(BIG)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    res = u.job("file_upload", filePath=str(path), purpose="assistants")
    assert "error" not in res, res
    f = res["file"]
    assert f["bytes"] == BIG and f["filename"] == "big.bin", f  # the client sees its own name
    kind, secret, filename, content, _ = u.ep.uploads[-1]
    assert filename == f"rs-t{u.team}-big.bin"  # the team's mark, spliced into the part header
    assert len(content) == BIG and hashlib.sha256(content).digest() == hashlib.sha256(data).digest()
    grown = peak_rss_kib(worker) - before
    assert grown < BIG // 3 // 1024, f"the worker's peak RSS grew by {grown} KiB for a {BIG >> 20} MiB upload"
    assert worker in u.gw.worker_pids()
    u.no_virtual_key_upstream()


# the file's spans go out read into buffers (sendfile off, nginx's default), by sendfile, or
# through TLS (never sendfile)
@pytest.mark.parametrize("transport", ["buffers", "sendfile", "tls"])
def test_spooled_body_is_the_clients_bytes_with_only_the_marks_spliced(gw_factory, mocks, sdk, dns, transport):
    u = Uploads(gw_factory, mocks, tls=transport == "tls",
                location_extra=SPOOLING + (" sendfile on;" if transport == "sendfile" else ""))
    content = os.urandom(1 << 20)
    boundary = "rs-b0undary"
    parts = [
        b'Content-Disposition: form-data; name="purpose"\r\n\r\nassistants',
        (b'Content-Disposition: form-data; name="file"; filename="a.jsonl"; '
         b"filename*=UTF-8''%C3%A9t%C3%A9.jsonl\r\nContent-Type: application/octet-stream\r\n\r\n" + content),
        b'Content-Disposition: form-data; name="note"\r\n\r\n' + b"n" * 70000,  # a long text field, untouched
    ]
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + boundary.encode() + b"--\r\n"
    r = u.raw_upload("/v1/files", boundary, body)
    assert r.status == 200, r.describe()
    assert r.json["filename"] == "a.jsonl" and r.json["bytes"] == len(content), r.json
    mark = f"rs-t{u.team}-".encode()
    expected = body.replace(b'filename="a.jsonl"', b'filename="' + mark + b'a.jsonl"') \
                   .replace(b"UTF-8''%C3%A9", b"UTF-8''" + mark + b"%C3%A9")
    up = u.mock.requests[-1]
    assert up.tls == (transport == "tls")
    assert up.header("content-length") == str(len(expected))
    assert up.body == expected, "the provider got other bytes than the client's with the marks inserted"

    # a transcription: the model alias replaced inside the form, the audio and other fields untouched
    audio = os.urandom(2 << 20)
    fields = [
        b'Content-Disposition: form-data; name="file"; filename="s.mp3"\r\nContent-Type: audio/mpeg\r\n\r\n' + audio,
        b'Content-Disposition: form-data; name="model"\r\n\r\nwhisper-alias',
        b'Content-Disposition: form-data; name="language"\r\n\r\nen',
    ]
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in fields) + b"--" + boundary.encode() + b"--\r\n"
    r = u.raw_upload("/v1/audio/transcriptions", boundary, body)
    assert r.status == 200 and r.json["text"] == f"heard {len(audio)} bytes", r.describe()
    assert u.mock.requests[-1].body == body.replace(b"\r\n\r\nwhisper-alias\r\n", b"\r\n\r\nwhisper-1\r\n")
    u.no_virtual_key_upstream()


def test_sdk_transcription_of_a_spooled_upload(gw_factory, mocks, sdk, tmp_path):
    u = Uploads(gw_factory, mocks)
    audio = os.urandom(3 << 20)
    path = tmp_path / "speech.mp3"
    path.write_bytes(audio)
    res = u.job("transcription", filePath=str(path), request={"model": "whisper-alias"})
    assert "error" not in res, res
    kind, _, filename, data, model = u.ep.uploads[-1]
    assert (kind, filename, model) == ("audio/transcriptions", "speech.mp3", b"whisper-1")
    assert data == audio


def upload_after_a_503(u: Uploads, tmp_path, name: str, size: int, provider_path: str, mode: str, **fields):
    """Uploads `size` random bytes while the first key answers 503: both attempts (on different
    keys) must carry the same bytes. Returns the upload and the second attempt."""
    data = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(data)
    u.ep.fail_next(provider_path, Reply.error(503, "overloaded"))
    res = u.job(mode, filePath=str(path), **fields)
    assert "error" not in res, res
    first, second = u.mock.requests[-2], u.mock.requests[-1]
    assert first.auth_secret() != second.auth_secret()
    assert first.body == second.body, "the retry sent other bytes than the first attempt"
    return data, second


def test_retry_sends_the_whole_spooled_body_again(gw_factory, mocks, sdk, tmp_path):
    u = Uploads(gw_factory, mocks, keys=2)
    data, second = upload_after_a_503(u, tmp_path, "retry.bin", 8 << 20, "/v1/files", "file_upload", purpose="assistants")
    kind, secret, filename, content, _ = u.ep.uploads[-1]
    assert secret == second.auth_secret() and filename == f"rs-t{u.team}-retry.bin"
    assert content == data
    e = u.gw.wait_access(1, where=lambda e: e["attempts"] == "2")[-1]
    assert e["statuses"] == "503,200", e
    u.no_virtual_key_upstream()


def test_retry_resends_a_spooled_body_with_a_replaced_model(gw_factory, mocks, sdk, tmp_path):
    # the replaced model leaves a gap in the file's spans, which nginx's own retry (reinit) would
    # close up; each attempt must send the same spliced bytes
    u = Uploads(gw_factory, mocks, keys=2)
    audio, second = upload_after_a_503(u, tmp_path, "retry.mp3", 4 << 20, "/v1/audio/transcriptions", "transcription",
                                       request={"model": "whisper-alias"})
    kind, secret, filename, data, model = u.ep.uploads[-1]
    assert (secret, filename, model) == (second.auth_secret(), "retry.mp3", b"whisper-1") and data == audio
    u.no_virtual_key_upstream()


def test_spooled_upload_over_the_limit_is_an_openai_413(gw_factory, mocks, sdk):
    u = Uploads(gw_factory, mocks, location_extra="client_body_buffer_size 64k; routeshift_max_body_size 2m;")
    # chunked: no Content-Length to refuse up front, nginx's reader stops at the limit
    payload = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n" + b"x" * (3 << 20)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 65536]), payload[i:i + 65536])
                       for i in range(0, len(payload), 65536)) + b"0\r\n\r\n"
    head = (f"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {u.vk}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
    r = raw_request(u.gw.port, head, chunked, timeout=30)
    assert r.status == 413, r.describe()
    assert r.json["error"]["type"] == "invalid_request_error", r.describe()
    assert not u.mock.requests
