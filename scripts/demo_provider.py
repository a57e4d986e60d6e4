"""A local stand-in for an OpenAI-compatible provider, so `make run` works with no provider
account and no network: it answers every chat completion (streamed or not) by echoing the
last user message, and embeddings with small deterministic vectors."""
import json
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "t" / "integration"))
from mock_embeddings import OpenAIEmbeddings  # noqa: E402
from mock_provider import MockProvider, Reply  # noqa: E402


def answer(req):
    try:
        body = json.loads(req.body or b"{}")
        last = body.get("messages", [{}])[-1].get("content", "")
        if not isinstance(last, str):
            last = json.dumps(last)
    except Exception:
        last = ""
    text = f"RouteShift demo provider here. You said: {last[:200]}"
    if body.get("stream"):
        words = text.split(" ")
        return Reply.stream([w + " " for w in words], delay=0.05)
    return Reply.completion(text)


def main():
    port = int(sys.argv[1])
    mock = MockProvider(name="demo", port=port)
    embeddings = OpenAIEmbeddings(mock)  # /v1/embeddings; None for every other path
    mock.handler = lambda req: embeddings.handle(req) or answer(req)
    mock.start()
    print(f"demo provider listening on 127.0.0.1:{port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    mock.stop()


if __name__ == "__main__":
    main()
