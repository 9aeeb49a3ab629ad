"""The classroom panel (sselab/_controls.py): a button press in a real kernel measures again and
redraws; headless it shows one static figure and builds no widget; every run stops its nginx."""

import os

import pytest

import sselab
from servers import article_headers

jupyter_client = pytest.importorskip("jupyter_client")


def _needs_ipywidgets():
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("ipywidgets is missing in CI; it is in requirements.txt")
        pytest.skip("ipywidgets is not installed")


class Kernel:
    """A real IPython kernel (jupyter_client), its iopub messages collected per execution."""

    def __init__(self, headless: bool) -> None:
        env = {k: v for k, v in os.environ.items() if k != "SSELAB_HEADLESS"}
        if headless:
            env["SSELAB_HEADLESS"] = "1"
        self.manager, self.client = jupyter_client.manager.start_new_kernel(kernel_name="python3", env=env)

    def run(self, code: str, timeout: float = 120) -> list[dict]:
        """Execute ``code``; return its iopub messages; raise with the traceback on an error."""
        msg_id = self.client.execute(code)
        messages = []
        while True:
            msg = self.client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "error":
                raise AssertionError("\n".join(msg["content"]["traceback"]))
            messages.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return messages

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def stdout(messages) -> str:
    return "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")


def updates(messages, model_id: str, key: str) -> list:
    """Every new value of ``key`` that the kernel sent to the widget ``model_id`` (what a frontend draws)."""
    return [m["content"]["data"]["state"][key] for m in messages
            if m["msg_type"] in ("comm_msg", "comm_open") and m["content"]["comm_id"] == model_id
            and key in m["content"]["data"].get("state", {})]


def pngs(outputs_updates) -> list[str]:
    return [o["data"]["image/png"] for outputs in outputs_updates for o in outputs if "image/png" in o.get("data", {})]


SETUP = """
import sselab
from servers import coze_relay_article, coze_standin
standin = sselab.serve(coze_standin.CozeStandIn(first_delay=0.1, interval=0.02, deltas=10), name="test-standin")
relay = sselab.serve(coze_relay_article.make_app(base_url=standin.url, token="demo-token", bot_id="1"),
                     name="test-article")
panel = sselab.crowd_panel({"article": relay.url + "/chat"}, users=1)
print("live" if panel.live else "static", len(panel.results))
print(panel.output.model_id, panel.verdicts.model_id, panel.status.model_id, panel.button.model_id)
"""


@pytest.mark.slow
def test_a_button_press_in_a_real_kernel_measures_again_and_redraws():
    _needs_ipywidgets()
    kernel = Kernel(headless=False)
    try:
        first = kernel.run(SETUP)
        mode, runs, output_id, verdicts_id, status_id, button_id = stdout(first).split()
        assert (mode, runs) == ("live", "1"), stdout(first)
        before_png = pngs(updates(first, output_id, "outputs"))
        before_text = updates(first, verdicts_id, "value")[-1]
        assert len(before_png) == 1 and "article: side by side" in before_text, before_text

        # the instructor moves the slider (nothing is measured), then presses the button once
        moved = kernel.run("panel.inputs['users'].value = 5")
        assert not updates(moved, output_id, "outputs"), "moving a control redrew: it must wait for the button"
        pressed = kernel.run("panel.button.click()\nprint(len(panel.results), panel.values)")
        assert stdout(pressed).split()[0] == "2", stdout(pressed)

        after_png = pngs(updates(pressed, output_id, "outputs"))
        assert len(after_png) == 1 and after_png != before_png, "no new figure reached the frontend"
        after_text = updates(pressed, verdicts_id, "value")[-1]
        assert "article: one at a time" in after_text, after_text  # 5 users of a blocking relay
        assert "run 2 (users at once 5)" in updates(pressed, status_id, "value")[-1]
        assert [False] == updates(pressed, button_id, "disabled")[-1:], "the button stayed disabled"

        left = kernel.run("sselab.stop_all()\nprint(sselab.running_servers(), sselab.running_proxies())")
        assert stdout(left).split() == ["[]", "[]"]
    finally:
        kernel.stop()


HEADLESS = """
import sselab
from sselab._plot import LabFigure

def draw(n):
    fig = LabFigure(figsize=(3, 2))
    fig.add_subplot().plot(range(n))
    return fig

panel = sselab.ControlPanel(lambda n: n * 10, {"n": sselab.Control("n", (("1", 1), ("3", 3)), 3)},
                            draw=draw, describe=lambda n: f"measured {n}")
panel
"""


@pytest.mark.slow
def test_headless_the_panel_measures_once_and_shows_a_static_figure_without_widgets():
    kernel = Kernel(headless=True)
    try:
        shown = kernel.run(HEADLESS)
        assert not [m for m in shown if m["msg_type"] == "comm_open"], "a widget was built headless"
        images = [m for m in shown if m["msg_type"] == "display_data" and "image/png" in m["content"]["data"]]
        assert len(images) == 1, [m["msg_type"] for m in shown]
        assert "measured 30" in stdout(shown)
        assert stdout(kernel.run("print(len(panel.results), panel.run(n=1), panel.text)")).split() == [
            "1", "10", "measured", "10"]
    finally:
        kernel.stop()


@pytest.mark.slow
def test_the_nginx_panel_follows_proxy_buffering_and_stops_its_nginx(needs_nginx):
    with sselab.BackgroundServer(article_headers.app, name="test-controls-h11", http="h11") as upstream:
        panel = sselab.nginx_panel({"h11": upstream})  # nginx's defaults: h11 answers close-delimited
        assert not sselab.running_proxies()
        held = panel.results[-1]["h11"]
        unbuffered = panel.run(buffering=False)["h11"]
        assert not sselab.running_proxies()
    assert held.verdict == "held-until-end", held.reason
    assert unbuffered.verdict == "real-time", unbuffered.reason
    assert "h11: real-time" in panel.text and len(panel.results) == 2
    assert panel.values["buffering"] is False


def test_a_control_refuses_a_value_it_does_not_offer():
    with pytest.raises(ValueError, match="users"):
        sselab.Control("users", (("1", 1), ("2", 2)), 3)
