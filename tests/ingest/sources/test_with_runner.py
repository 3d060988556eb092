"""A connector behind the real ingest runner: a dropped Jetstream replays nothing twice."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from earful.ingest.sources.bluesky import BlueskyConfig, BlueskySource
from tests.ingest.sources.replay_server import WebSocketReplay
from tests.ingest.sources.test_bluesky import FRAMES, T, frame_times
from tests.ingest.test_runner import FakeWriter, make_runner


def test_jetstream_drop_and_rewind_produce_each_mention_once() -> None:
    connections: list[str] = []

    def jetstream(path: str) -> tuple[list[str], bool]:
        connections.append(path)
        cursor = parse_qs(urlsplit(path).query).get("cursor")
        if len(connections) == 1:
            return FRAMES[:7], True  # drops after the Japanese post (T + 1.0 s)
        if len(connections) == 2:
            start = int(cursor[0]) if cursor else 0
            return [f for f, t in zip(FRAMES, frame_times(), strict=True) if t >= start], True
        return [], False  # then quiet: the runner stops after idle pages

    with WebSocketReplay(jetstream) as ws:
        config = BlueskyConfig(url=ws.url, rewind_s=1.0, batch_wait_s=0.05)
        source = BlueskySource(config, idle_s=0.1)
        writer = FakeWriter()
        runner = make_runner(source, writer)
        stats = runner.run(idle_pages=2)

    # The rewind replayed the first two posts; the runner's dedup dropped them.
    assert parse_qs(urlsplit(connections[1]).query)["cursor"] == [str(T)]
    ids = [m.id for m in writer.mentions()]
    assert ids == [
        "bluesky:did:plc:ewvi7nxzyoun6zhxrhs64oiz/3lbxacme0001a",
        "bluesky:did:plc:4nq2k7vj3rdzbwmbh5hw6tfx/3lbxacme0002b",
        "bluesky:did:plc:z72i7hdynmk6r22z27h6tvur/3lbxacme0008h",
    ]
    assert stats.dropped["duplicate"] == 2
    assert stats.errors["transient"] == 2  # two drops, each reconnected from the cursor
    assert writer.checkpoints[-1].cursor == str(T + 2_000_000)
