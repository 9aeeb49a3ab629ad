"""Live timelines: the probe reports progress per event; headless, watch() is the static plot."""

import asyncio

import nbformat
import pytest
from nbclient import NotebookClient

import sselab


def test_on_event_sees_the_timeline_grow(ticker_server):
    seen = []
    t = sselab.probe(ticker_server.url + "/events?n=5&interval=0.02",
                     on_event=lambda partial: seen.append(len(partial.events)))
    assert seen == [1, 2, 3, 4, 5] and t.verdict == "real-time"


def test_watch_outside_a_notebook_returns_the_timeline(ticker_server):
    t = asyncio.run(sselab.watch(ticker_server.url + "/events?n=4&interval=0.02"))
    assert len(t.events) == 4


@pytest.mark.slow
def test_watch_in_a_live_kernel_updates_one_display(ticker_server, monkeypatch):
    monkeypatch.delenv("SSELAB_HEADLESS", raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f"import sselab\nt = await sselab.watch('{ticker_server.url}/events?n=6&interval=0.1', fps=20)")])
    updates = []
    client = NotebookClient(nb, timeout=60, kernel_name="python3")
    original = client._update_display_id  # every display message with an id passes here

    def count(display_id, msg):
        updates.append(msg["header"]["msg_type"])
        return original(display_id, msg)

    client._update_display_id = count
    client.execute()
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"], outputs
    assert "image/png" in outputs[0].data
    assert updates.count("update_display_data") >= 2, updates
