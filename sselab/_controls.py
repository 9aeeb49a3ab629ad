"""Live controls for a classroom: parameters -> measure -> figure, again when a button is pressed.

Defined in notebooks/04_nginx.ipynb (``nginx_panel``: event size, nginx's buffers,
``proxy_buffering``, the event gap) and notebooks/10_coze.ipynb (``crowd_panel``: how many
users a relay serves at once). ``ControlPanel`` is the generic part: a few ``Control``
choices, a button, the verdicts as text and the figure, in an ipywidgets box. Moving a
control measures nothing; the button runs the measurement once with the chosen values (its
servers and proxies are started and stopped inside that run), then redraws.

It measures once when it is made, so the figure is there before anyone presses anything.
Headless (``SSELAB_HEADLESS=1``, set by the lab's notebook runner), outside a notebook kernel,
or without ipywidgets, it is inert: it shows that first figure and its verdicts as static
output, and builds no widget. A measurement runs in a worker thread with its own event loop
(a notebook cell and a widget's callback both run inside the kernel's loop, where
``asyncio.run`` cannot), and the caller waits for it: one press, one measurement, in order.
"""

from __future__ import annotations

import base64
import html
import inspect
import time
from dataclasses import dataclass

from ._concurrent import Crowd, acrowd
from ._live import _live_display, _show_static
from ._loop_thread import run_blocking
from ._nginx import NginxProxy
from ._plot import plot_runs, plural
from ._plot_crowd import plot_crowd
from ._probe import aprobe
from ._timeline import Timeline


@dataclass(frozen=True)
class Control:
    """One parameter: a label, the values it may take (``(label, value)`` pairs) and its start value.
    Numbers become a slider of those values, anything else a row of toggle buttons."""

    label: str
    options: tuple[tuple[str, object], ...]
    value: object

    def __post_init__(self) -> None:
        self.check(self.value)

    def check(self, value) -> None:
        if value not in [v for _, v in self.options]:
            raise ValueError(f"{self.label}: {value!r} is not one of {[v for _, v in self.options]}")

    def widget(self):
        """The ipywidgets control: it only holds the value; the panel's button measures."""
        import ipywidgets as w

        options, style = list(self.options), {"description_width": "initial"}
        if all(isinstance(v, int | float) and not isinstance(v, bool) for _, v in self.options):
            return w.SelectionSlider(options=options, value=self.value, description=self.label,
                                     continuous_update=False, style=style)
        return w.ToggleButtons(options=options, value=self.value, description=self.label,
                               style=style | {"button_width": "auto"})


def _measure_in_thread(measure, values: dict):
    """``measure(**values)``, awaited in a fresh event loop in a worker thread when it is async."""
    if not inspect.iscoroutinefunction(measure):
        return measure(**values)
    return run_blocking(measure, **values)


def _png_output(figure) -> dict:
    """A figure as one output of an ``ipywidgets.Output`` (what the frontend redraws)."""
    png = base64.b64encode(figure._repr_png_()).decode()
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": png, "text/plain": f"<figure: {len(figure.axes)} axes>"}}


class ControlPanel:
    """``measure(**values)`` (async or not) -> ``draw(result)`` (a Figure) and
    ``describe(result)`` (the verdict lines), re-run when ``button`` is pressed.

    ``results`` holds every measurement, the latest last. With widgets, ``inputs`` maps each
    control's name to its widget, and ``output`` (an ``ipywidgets.Output``) holds the figure.
    """

    def __init__(self, measure, controls: dict[str, Control], *, draw, describe=str, title: str = "",
                 button: str = "Measure again") -> None:
        self.measure, self.controls, self.draw, self.describe = measure, controls, draw, describe
        self.title, self.results, self.seconds = title, [], []
        self._chosen = {name: control.value for name, control in controls.items()}
        self.live = _live_display() is not None and _have_ipywidgets()
        if self.live:
            self._build(button)
        self.run()

    # -- measuring ------------------------------------------------------------------------
    @property
    def values(self) -> dict:
        """The values the next measurement will use (the widgets' when live)."""
        if self.live:
            return {name: widget.value for name, widget in self.inputs.items()}
        return dict(self._chosen)

    def run(self, **values):
        """Measure once with ``values`` (any control not named keeps its value), redraw, and
        return the result. With widgets, the named controls move to those values first."""
        for name, value in values.items():
            self.controls[name].check(value)
            if self.live:
                self.inputs[name].value = value
        self._chosen |= values
        started = time.monotonic()
        result = _measure_in_thread(self.measure, self.values)
        self.results.append(result)
        self.seconds.append(time.monotonic() - started)
        if self.live:
            self._redraw(result)
        return result

    @property
    def text(self) -> str:
        """The latest measurement's verdicts, as ``describe`` words them."""
        return self.describe(self.results[-1]) if self.results else ""

    # -- widgets --------------------------------------------------------------------------
    def _build(self, button: str) -> None:
        import ipywidgets as w

        self.inputs = {name: control.widget() for name, control in self.controls.items()}
        self.button = w.Button(description=button, button_style="primary", icon="play")
        self.status = w.HTML()
        self.verdicts = w.HTML()
        self.output = w.Output()
        self.button.on_click(self._pressed)
        heading = [w.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []
        self.box = w.VBox([*heading, *self.inputs.values(), w.HBox([self.button, self.status]),
                           self.verdicts, self.output])

    def _pressed(self, _button) -> None:
        self.button.disabled = True
        self.status.value = "<i>measuring…</i>"
        try:
            self.run()
        except Exception as error:  # a callback's exception would only reach the kernel's log
            self.status.value = f"<b>the measurement failed</b>: {html.escape(f'{type(error).__name__}: {error}')}"
        finally:
            self.button.disabled = False

    def _redraw(self, result) -> None:
        self.output.outputs = (_png_output(self.draw(result)),)
        self.verdicts.value = f"<pre>{html.escape(self.describe(result))}</pre>"
        chosen = ", ".join(f"{self.controls[n].label} {_label(self.controls[n], v)}" for n, v in self.values.items())
        self.status.value = f"run {len(self.results)} ({chosen}): {self.seconds[-1]:.1f} s"

    def _ipython_display_(self) -> None:
        if self.live:
            from IPython.display import display

            display(self.box)
            return
        if self.results:
            print(self.text)
            _show_static(self.draw(self.results[-1]))

    def __repr__(self) -> str:
        return f"<ControlPanel {self.title!r}: {len(self.results)} runs, {'live' if self.live else 'static'}>"


def _have_ipywidgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        print("(no ipywidgets: the controls are not shown; 'pip install ipywidgets' and restart the kernel)")
        return False
    return True


def _label(control: Control, value) -> str:
    return next((label for label, v in control.options if v == value), str(value))


# -- nginx: the event size against nginx's buffers, proxy_buffering, the event gap (notebook 04) ------
EVENT_SIZES = (("~40 B", 0), ("500 B", 500), ("1 KB", 1000), ("2 KB", 2000), ("4 KB", 4000), ("8 KB", 8000))
BUFFERS = (("default (one memory page)", ""), ("1k", "1k"), ("4k", "4k"), ("16k", "16k"))
GAPS = (("20 ms", 0.02), ("50 ms", 0.05), ("100 ms", 0.1), ("200 ms", 0.2))


async def nginx_runs(upstreams: dict, *, pad: int = 0, buffers: str = "", buffering: bool = True,
                     gap: float = 0.05, events: int = 10) -> dict[str, Timeline]:
    """One nginx per upstream (``{"h11": server, ...}``, each serving ``servers/article_headers.py``)
    with these knobs, the same stream through each; every nginx is stopped before the next starts."""
    knobs = {"proxy_buffering": buffering}
    if buffers:
        knobs |= {"proxy_buffer_size": buffers, "proxy_buffers": f"8 {buffers}"}

    runs = {}
    for name, upstream in upstreams.items():  # one at a time: two nginx starting at once can stall a stream
        with NginxProxy(upstream, name=f"panel-{name}", **knobs) as proxy:
            runs[name] = await aprobe(f"{proxy.url}/events?n={events}&interval={gap}&pad={pad}")
    return runs


def _describe_runs(runs: dict[str, Timeline]) -> str:
    return "\n".join(f"{name}: {t.verdict}, {plural(len(t.bursts), 'burst')} (largest "
                     f"{t.summary['largest_burst_bytes']} B) - {t.reason}" for name, t in runs.items())


def nginx_panel(upstreams: dict, *, pad: int = 0, buffers: str = "", buffering: bool = True,
                gap: float = 0.05) -> ControlPanel:
    """The event size (``pad``) against nginx's buffers (``proxy_buffer_size`` and ``8`` of
    ``proxy_buffers``), ``proxy_buffering`` on or off and the event gap, measured through a
    fresh nginx in front of each of ``upstreams`` when the button is pressed."""
    controls = {"pad": Control("event size", EVENT_SIZES, pad), "buffers": Control("nginx buffers", BUFFERS, buffers),
                "buffering": Control("proxy_buffering", (("on", True), ("off", False)), buffering),
                "gap": Control("event gap", GAPS, gap)}

    async def measure(**values) -> dict[str, Timeline]:
        return await nginx_runs(upstreams, **values)

    return ControlPanel(measure, controls, draw=plot_runs, describe=_describe_runs,
                        title="10 events through nginx, once per upstream")


# -- a relay's users (notebook 10) -------------------------------------------------------------------
USERS = tuple((str(n), n) for n in (1, 2, 3, 5, 8))


def _describe_crowds(crowds: dict[str, Crowd]) -> str:
    return "\n".join(f"{name}: {c.verdict} - {c.reason}" for name, c in crowds.items())


def crowd_panel(relays: dict[str, str], *, users: int = 3) -> ControlPanel:
    """``users`` at once on each relay URL of ``relays`` (after one user alone, the baseline),
    drawn as a crowd figure: a blocking relay next to an async one shows the difference."""

    async def measure(users: int) -> dict[str, Crowd]:
        return {name: await acrowd(url, users=users) for name, url in relays.items()}

    return ControlPanel(measure, {"users": Control("users at once", USERS, users)}, draw=plot_crowd,
                        describe=_describe_crowds, title="one user alone, then N users at once, per relay")
