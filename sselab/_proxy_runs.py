"""Each proxy × setting × upstream HTTP implementation, measured: the matrix of notebook 06.

Defined in notebooks/06_other_proxies.ipynb, with ``servers/proxy_streams.py`` behind each
proxy. For one proxy, ``plan()`` lists its settings (its defaults, the setting its
documentation gives for streaming, its compressor, its cache, a 1 s idle timeout, and the
configuration the notebook recommends), and each setting lists its checks:

- ``stream``: 10 stamped events, 50 ms apart;
- ``2nd client``: the same URL again right after: fresh, or replayed from a cache?
- ``no-cache``, ``no-cache, 2nd client``: the same pair with ``Cache-Control: no-cache``
  from the app: does the header stop the cache?
- ``gzip``: the stream, asking for ``Accept-Encoding: gzip`` (the probe decodes it);
- ``late first event``: the first event 1 s late (then two more): when do the headers get through?
- ``quiet`` / ``heartbeat``: 1.5 s of silence mid-stream, without and with a ``: ping``
  comment every 0.25 s, against a 1 s idle timeout.

One setting starts the proxy twice (in front of uvicorn's h11 and its httptools), runs its
groups of checks concurrently (a group is checks that must follow each other) and stops
both. :func:`ameasure_proxies` starts every setting's proxies first, then runs the checks
of three proxies at a time (each setting in its own processes and ports; at most twelve
streams at once), and last the recommended settings one proxy at a time; a setting with a
one-event stall is then measured again alone (:func:`_stalls_measured_again`). Every cell of
``proxy_table`` is computed from those timelines.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ._probe import ProbeError, aprobe
from ._proxies import PROXY_CLASSES, LabProxy
from ._server_runs import HEADERS_HELD
from ._table import Table
from ._timeline import Timeline

TICKER = "/ticker/events?n=10&interval=0.05"
CHECKS = {
    "stream": (TICKER, {}),
    "2nd client": (TICKER, {}),
    "no-cache": (TICKER + "&send=cache-control", {}),
    "no-cache, 2nd client": (TICKER + "&send=cache-control", {}),
    "gzip": (TICKER, {"accept_encoding": "gzip"}),
    "gzip, 1 KB events": (TICKER + "&pad=1000", {"accept_encoding": "gzip"}),
    "late first event": ("/late/events?first=1&n=3&interval=0.05", {}),
    "quiet": ("/quiet/events?n=10&interval=0.05&gap={gap}", {}),
    "heartbeat": ("/quiet/events?n=10&interval=0.05&gap={gap}&heartbeat=0.25", {}),
}
"""Check name -> (path on servers/proxy_streams.py, probe options); ``{gap}`` is the proxy's
``quiet_gap``, a silence that outlasts a 1 s idle timeout on its timer."""


@dataclass(frozen=True)
class Setting:
    """One configuration of one proxy, and the checks run through it (groups run concurrently)."""

    name: str
    knobs: dict
    groups: tuple[tuple[str, ...], ...]


def plan(cls: type[LabProxy]) -> list[Setting]:
    """The settings notebook 06 measures for one proxy (a knob it lacks is left out)."""
    stream = {"stream": True} if "stream" in cls.supports else {}
    settings = [Setting("defaults", {}, (("stream", "2nd client"), ("late first event",)))]
    if stream:
        settings.append(Setting("streaming setting", stream, (("stream",), ("late first event",))))
    if "gzip" in cls.supports:
        settings.append(Setting("gzip", {"gzip": True, **stream}, (("gzip",), ("gzip, 1 KB events",))))
    if "cache" in cls.supports:
        settings.append(Setting("cache", {"cache": True, **stream},
                                (("stream", "2nd client"), ("no-cache", "no-cache, 2nd client"))))
    settings.append(Setting(f"idle timeout {cls.idle_seconds} s", {"idle_timeout": cls.idle_seconds, **stream},
                            (("quiet",), ("heartbeat",))))
    settings.append(Setting("recommended", dict(cls.recommended), (("stream", "2nd client"), ("heartbeat",))))
    return settings


@dataclass
class ProxyRun:
    """One check through one proxy setting, in front of one uvicorn HTTP implementation."""

    proxy: str
    setting: str
    check: str
    http: str
    timeline: Timeline | None
    status: int | None = None
    """The proxy's HTTP status when it answered an error instead of the stream."""
    config: str = ""
    side_by_side: str | None = None
    """The cell (``outcome``) this check had beside other proxies, when it was measured again
    alone and the cell changed (see :func:`_stalls_measured_again`)."""

    @property
    def ok(self) -> bool:
        """Real time and complete (a cut is never real time)."""
        return self.timeline is not None and self.timeline.verdict == "real-time"

    @property
    def outcome(self) -> str:
        """The cell of the table: the verdict, with the figure that matters for this check."""
        if self.side_by_side is not None:
            return f"{self._outcome()} (measured again alone; beside other proxies: {self.side_by_side})"
        return self._outcome()

    def _outcome(self) -> str:
        t = self.timeline
        if t is None:
            return f"HTTP {self.status} from the proxy"
        if t.verdict == "cut":
            return f"cut after {len(t.events)} events"
        if self.check == "late first event":
            first = t.summary["first_event"]
            held = (t.headers_at is not None and first is not None and first > 2 * HEADERS_HELD
                    and first - t.headers_at < HEADERS_HELD)
            return f"headers {'held until first event' if held else 'at once'} ({_ms(t.headers_at)})"
        if t.verdict == "replayed":
            return f"replayed (sent {-t.events[0].sent:.1f} s before)"
        if self.check.startswith("gzip"):
            encoding = t.headers.get("content-encoding", "none")
            return f"{t.verdict} (encoding {encoding})"
        if self.check == "heartbeat" or self.check == "quiet":
            return f"{t.verdict}, {len(t.events)} events"
        return t.verdict


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


async def _check(proxy: LabProxy, upstream_url: str, check: str) -> tuple[Timeline | None, int | None]:
    path, options = CHECKS[check]
    path = path.format(gap=proxy.quiet_gap)
    url, extra = ((upstream_url + path, {"proxy": proxy.url}) if proxy.forward else (proxy.url + path, {}))
    try:
        return await aprobe(url, max_seconds=8, **options, **extra), None
    except ProbeError as error:
        if error.status is None:
            raise
        return None, error.status


async def _started(cls: type[LabProxy], setting: Setting, upstreams: dict) -> dict[str, LabProxy]:
    """The setting's proxy in front of each upstream, started (all stopped again if one fails)."""
    proxies = {http: cls(None if cls.forward else up, name=f"06-{cls.program}-{setting.name}-{http}",
                         **setting.knobs) for http, up in upstreams.items()}
    try:
        await asyncio.gather(*(asyncio.to_thread(p.start) for p in proxies.values()))
    except BaseException:
        await _stopped(proxies)
        raise
    return proxies


async def _stopped(proxies: dict[str, LabProxy]) -> None:
    await asyncio.gather(*(asyncio.to_thread(p.stop) for p in proxies.values()))


async def _checked(cls: type[LabProxy], setting: Setting, proxies: dict, upstreams: dict) -> list[ProxyRun]:
    """Run the setting's groups of checks through its started proxies, all groups at once."""
    async def group(http: str, checks: tuple[str, ...]) -> list[ProxyRun]:
        out = []
        for check in checks:
            timeline, status = await _check(proxies[http], upstreams[http].url, check)
            out.append(ProxyRun(cls.program, setting.name, check, http, timeline, status,
                                proxies[http].render()))
        return out

    done = await asyncio.gather(*(group(http, g) for http in proxies for g in setting.groups))
    return [run for runs in done for run in runs]


async def ameasure_setting(cls: type[LabProxy], setting: Setting, upstreams: dict) -> list[ProxyRun]:
    """Start ``cls`` with the setting's knobs in front of each upstream, run its checks, stop."""
    proxies = await _started(cls, setting, upstreams)
    try:
        return await _checked(cls, setting, proxies, upstreams)
    finally:
        await _stopped(proxies)


async def ameasure_proxy(name: str, upstreams: dict) -> list[ProxyRun]:
    """Every setting of ``plan()`` for the proxy called ``name`` (``"Caddy"``, ...), one after the other."""
    return await ameasure_proxies([name], upstreams)


def _expected_seconds(cls: type[LabProxy]) -> float:
    """A rough length of a proxy's plan: its settings, and its quiet gap (Squid's is longest)."""
    return len(plan(cls)) * cls.quiet_gap


ALONE = ("recommended",)
"""Settings measured one proxy at a time, after the others: :func:`recommended_config` prints a
configuration only if every one of its runs was real-time, so nothing else runs beside them."""


async def ameasure_proxies(names, upstreams: dict, *, at_once: int = 3) -> list[ProxyRun]:
    """Every setting of every proxy in ``names``, measured; the runs in the order of ``names``.

    First every setting's proxies start (Varnish compiles its VCL to C at each start, which
    takes a core for a moment); only then do the checks run, with nothing starting or stopping
    meanwhile: one proxy's settings one after the other, ``at_once`` proxies at the same time
    (the longest plans first), then the settings in ``ALONE`` one proxy at a time. Proxies side
    by side deliver a one-event stall of 20-30 ms somewhat more often on a busy 2-core machine;
    a configuration to copy is judged on runs with nothing beside them. Every proxy is
    stopped when this returns or raises.
    """
    names = list(names)
    plans = {name: (PROXY_CLASSES[name], plan(PROXY_CLASSES[name])) for name in names}
    starting = {(name, setting.name): asyncio.ensure_future(_started(cls, setting, upstreams))
                for name, (cls, settings) in plans.items() for setting in settings}
    lanes = asyncio.Semaphore(at_once)

    async def measured(name: str, alone: bool) -> list[ProxyRun]:
        cls, settings = plans[name]
        async with lanes:
            runs = []
            for setting in settings:
                if (setting.name in ALONE) == alone:
                    runs += await _checked(cls, setting, starting[(name, setting.name)].result(), upstreams)
            return runs

    try:
        await asyncio.gather(*starting.values())
        order = sorted(names, key=lambda n: -_expected_seconds(plans[n][0]))
        side_by_side = dict(zip(order, await asyncio.gather(*(measured(name, False) for name in order))))
        alone = {name: await measured(name, True) for name in names}
        runs = {name: side_by_side[name] + alone[name] for name in names}
        ordered = [run for name in names for setting in plans[name][1] for run in runs[name]
                   if run.setting == setting.name]
    finally:
        await asyncio.gather(*starting.values(), return_exceptions=True)
        await asyncio.gather(*(_stopped(task.result()) for task in starting.values()
                               if not task.cancelled() and task.exception() is None))
    return await _stalls_measured_again(ordered, upstreams)


async def _stalls_measured_again(runs: list[ProxyRun], upstreams: dict, measure=None) -> list[ProxyRun]:
    """Every setting with a ``stalled`` run, measured once more on fresh proxies with nothing beside them.

    Side by side, this 2-core machine now and then delivers one event 20-30 ms late: in three
    runs of notebook 06, two to four of ~150 checks, a different one each time, Squid's and
    Caddy's defaults among them, which stream. A stall the proxy makes comes back when it runs
    alone; one its neighbours made does not. The setting's runs are replaced by the new ones; a
    run whose verdict changed keeps the first in ``side_by_side``, and its table cell says so.
    ``measure`` is :func:`ameasure_setting` (a parameter for the tests).
    """
    measure = measure or ameasure_setting
    stalled = dict.fromkeys((r.proxy, r.setting) for r in runs
                            if r.timeline is not None and r.timeline.verdict == "stalled")
    again: dict[tuple[str, str], dict[tuple[str, str], ProxyRun]] = {}
    for proxy, setting_name in stalled:
        cls = PROXY_CLASSES[proxy]
        setting = next(s for s in plan(cls) if s.name == setting_name)
        again[(proxy, setting_name)] = {(r.check, r.http): r for r in await measure(cls, setting, upstreams)}
    out = []
    for run in runs:
        new = again.get((run.proxy, run.setting), {}).get((run.check, run.http))
        if new is None:
            out.append(run)
            continue
        first = run.outcome
        if new.outcome != first:
            new.side_by_side = first
        out.append(new)
    return out


class ProxyTable(Table):
    """One row per proxy × setting × check, one column per upstream HTTP implementation."""

    def __init__(self, runs: list[ProxyRun]) -> None:
        self.runs = runs
        self.https = list(dict.fromkeys(r.http for r in runs))
        self.COLUMNS = ("proxy", "setting", "check", *self.https)

    def rows(self) -> list[tuple[str, ...]]:
        cells: dict[tuple[str, str, str], dict[str, str]] = {}
        for r in self.runs:
            cells.setdefault((r.proxy, r.setting, r.check), {})[r.http] = r.outcome
        return [(*key, *(by.get(h, "") for h in self.https)) for key, by in cells.items()]


def proxy_table(runs: list[ProxyRun]) -> ProxyTable:
    return ProxyTable(runs)


def recommended_config(runs: list[ProxyRun], name: str, app: str = "http://127.0.0.1:8000") -> str | None:
    """The proxy's recommended config in front of ``app``, to copy; None unless every measured
    run of exactly those knobs was real time (a cut, a stall or a replay is not)."""
    cls = PROXY_CLASSES[name]
    mine = [r for r in runs if r.proxy == name and r.setting == "recommended"]
    if not mine or not all(r.ok for r in mine):
        return None
    return cls(None if cls.forward else app, **cls.recommended).render()
