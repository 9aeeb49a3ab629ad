"""Caddy, HAProxy, Apache, lighttpd, Varnish and Squid: each one's defaults and fix, measured.

Each test runs the whole plan of notebook 06 for one proxy (``sselab.ameasure_proxy``) in
front of uvicorn's h11 and httptools, and checks what the notebook teaches, with wide
margins: "streams" accepts a one-off stall (a shared 2-core machine), never a batch, a hold,
a replay or a cut. A proxy that is not installed skips (CI fails instead).
"""

import asyncio
import glob
import os
import threading
from pathlib import Path

import pytest

import sselab
from servers import proxy_streams
from sselab._proxy_runs import ProxyRun, _stalls_measured_again, plan

pytestmark = pytest.mark.slow
STREAMS = {"real-time", "stalled"}


def needs(name):
    cls = sselab.PROXY_CLASSES[name]
    if cls.find_binary(cls.__new__(cls)) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing in CI; scripts/system-packages should install {cls.package}")
        pytest.skip(f"{name} is not installed")
    return cls


@pytest.fixture(scope="module")
def upstreams():
    servers = {http: sselab.BackgroundServer(proxy_streams.app, name=f"test-proxies-{http}", http=http).start()
               for http in ("h11", "httptools")}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(autouse=True)
def nothing_left_running():  # the module's servers live across tests; proxies must not
    yield
    assert not sselab.running_proxies(), sselab.running_proxies()


def measured(name, upstreams) -> dict:
    needs(name)
    runs = asyncio.run(sselab.ameasure_proxy(name, upstreams))
    return {(r.setting, r.check, r.http): r for r in runs}


def verdicts(runs, setting, check) -> set:
    return {r.timeline.verdict if r.timeline else f"HTTP {r.status}"
            for (s, c, _), r in runs.items() if (s, c) == (setting, check)}


def assert_idle_timeout_cuts_quiet_but_not_heartbeat(runs, setting):
    assert verdicts(runs, setting, "quiet") == {"cut"}, verdicts(runs, setting, "quiet")
    assert verdicts(runs, setting, "heartbeat") <= STREAMS, verdicts(runs, setting, "heartbeat")


def test_caddy_streams_by_default_and_compresses_only_events_over_512_bytes(upstreams):
    runs = measured("Caddy", upstreams)
    assert verdicts(runs, "defaults", "stream") <= STREAMS
    gzip = [r for (s, c, _), r in runs.items() if (s, c) == ("gzip", "gzip")]
    assert all(r.timeline.headers.get("content-encoding") is None for r in gzip)  # first write < 512 B
    big = [r for (s, c, _), r in runs.items() if (s, c) == ("gzip", "gzip, 1 KB events")]
    assert all(r.timeline.headers.get("content-encoding") == "gzip" for r in big)
    assert not {r.timeline.verdict for r in big} & STREAMS  # the encoder is not flushed per event
    assert_idle_timeout_cuts_quiet_but_not_heartbeat(runs, "idle timeout 1 s")
    assert {r.timeline.verdict for (s, _, _), r in runs.items() if s == "recommended"} <= STREAMS


def test_haproxy_batches_by_default_and_http_no_delay_fixes_it(upstreams):
    runs = measured("HAProxy", upstreams)
    assert verdicts(runs, "defaults", "stream") == {"batched"}
    assert verdicts(runs, "streaming setting", "stream") <= STREAMS
    assert not verdicts(runs, "gzip", "gzip") & {"real-time"}  # its compressor holds an event back
    assert verdicts(runs, "cache", "2nd client") <= STREAMS  # no freshness info: never stored
    assert_idle_timeout_cuts_quiet_but_not_heartbeat(runs, "idle timeout 1 s")
    batched = next(r.timeline for (s, c, _), r in runs.items() if (s, c) == ("defaults", "stream"))
    assert sselab.which_proxy(batched)[0] == "HAProxy"
    assert "http-no-delay" in sselab.diagnose(batched).fix


def test_apache_streams_by_default_and_its_cache_does_not_store_a_stream(upstreams):
    runs = measured("Apache", upstreams)
    assert verdicts(runs, "defaults", "stream") <= STREAMS
    assert verdicts(runs, "gzip", "gzip") <= STREAMS  # mod_deflate flushes with mod_proxy_http's flushes
    assert verdicts(runs, "cache", "2nd client") <= STREAMS
    assert_idle_timeout_cuts_quiet_but_not_heartbeat(runs, "idle timeout 1 s")


def test_lighttpd_holds_the_whole_body_by_default_and_stream_response_body_fixes_it(upstreams):
    runs = measured("lighttpd", upstreams)
    assert verdicts(runs, "defaults", "stream") == {"held-until-end"}
    assert verdicts(runs, "streaming setting", "stream") <= STREAMS
    assert all(r.timeline.headers.get("content-encoding") is None
               for (s, _, _), r in runs.items() if s == "gzip")  # mod_deflate skips unfinished bodies
    held = next(r.timeline for (s, c, _), r in runs.items() if (s, c) == ("defaults", "stream"))
    diagnosis = sselab.diagnose(held)
    assert (diagnosis.proxy, diagnosis.layer) == ("lighttpd", "held-by-proxy")
    assert "stream-response-body" in diagnosis.fix


def test_varnish_replays_a_stream_to_the_next_client_unless_told_not_to(upstreams):
    runs = measured("Varnish", upstreams)
    assert verdicts(runs, "defaults", "stream") <= STREAMS
    assert verdicts(runs, "defaults", "2nd client") == {"replayed"}
    assert verdicts(runs, "cache", "no-cache, 2nd client") <= STREAMS  # Cache-Control: no-cache stops it
    assert verdicts(runs, "recommended", "2nd client") <= STREAMS  # return (pass)
    assert not verdicts(runs, "gzip", "gzip") & STREAMS
    assert_idle_timeout_cuts_quiet_but_not_heartbeat(runs, "idle timeout 1 s")
    replayed = next(r.timeline for (s, c, _), r in runs.items() if (s, c) == ("defaults", "2nd client"))
    diagnosis = sselab.diagnose(replayed)
    assert (diagnosis.proxy, diagnosis.layer) == ("Varnish", "cache-replay")


def test_squid_as_a_forward_proxy_streams_and_its_read_timeout_cuts_a_silence(upstreams):
    runs = measured("Squid", upstreams)
    assert verdicts(runs, "defaults", "stream") <= STREAMS
    assert verdicts(runs, "defaults", "2nd client") <= STREAMS
    assert_idle_timeout_cuts_quiet_but_not_heartbeat(runs, "idle timeout 2 s")
    t = next(r.timeline for (s, c, _), r in runs.items() if (s, c) == ("defaults", "stream"))
    assert sselab.which_proxy(t)[0] == "Squid"


def test_a_knob_the_proxy_lacks_is_refused_in_one_paragraph():
    with pytest.raises(sselab.ProxyError, match="Caddy has no cache setting"):
        sselab.CaddyProxy("http://127.0.0.1:9", cache=True)
    with pytest.raises(sselab.ProxyError, match="reverse proxy"):
        sselab.HAProxyProxy()


def test_a_missing_proxy_says_how_to_install_it_and_starts_nothing(monkeypatch):
    monkeypatch.setattr(sselab.ApacheProxy, "find_binary", lambda self: None)
    with pytest.raises(sselab.ProxyError, match="apt-get install apache2"):
        sselab.ApacheProxy("http://127.0.0.1:9").start()
    assert not sselab.running_proxies()


def test_a_config_the_proxy_refuses_is_reported_with_its_message(monkeypatch):
    needs("HAProxy")
    monkeypatch.setattr(sselab.HAProxyProxy, "files", lambda self, port, prefix: {"haproxy.cfg": "nonsense\n"})
    with pytest.raises(sselab.ProxyError, match="refused to start"):
        sselab.HAProxyProxy("http://127.0.0.1:9").start()


@pytest.mark.parametrize("name", sorted(sselab.PROXY_CLASSES))
def test_each_proxy_binds_127_0_0_1_only(name):
    cls = needs(name)
    proxy = cls(None if cls.forward else "http://127.0.0.1:9")
    config = proxy.render(port=8123, prefix="/tmp/p") + " ".join(proxy.command("bin", 8123, Path("/tmp/p")))
    assert "127.0.0.1:8123" in config or ('server.bind = "127.0.0.1"' in config and "8123" in config), config
    for wildcard in ("0.0.0.0", "*:8123", "[::]"):
        assert wildcard not in config


def test_nothing_is_left_after_100_start_stop_cycles_of_each():
    names = [name for name in sorted(sselab.PROXY_CLASSES) if needs(name)]
    before = {name: set(glob.glob(f"/tmp/sselab-{name.lower()}-*")) for name in names}
    errors = []

    def cycles(name):
        cls = sselab.PROXY_CLASSES[name]
        try:
            for _cycle in range(100):
                proxy = cls(None if cls.forward else "http://127.0.0.1:9", name=f"cycle-{name}")
                proxy.start()
                pid = proxy.pid
                proxy.stop()
                assert not os.path.exists(f"/proc/{pid}") or _zombie(pid), f"{name} pid {pid} alive after stop"
        except Exception as error:  # noqa: BLE001 (reported below, per proxy)
            errors.append(f"{name}: {error}")

    threads = [threading.Thread(target=cycles, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert not sselab.running_proxies()
    for name in names:
        assert set(glob.glob(f"/tmp/sselab-{name.lower()}-*")) <= before[name], f"{name} left its temp dir"
    binaries = {os.path.basename(sselab.PROXY_CLASSES[n].find_binary(sselab.PROXY_CLASSES[n].__new__(
        sselab.PROXY_CLASSES[n]))) for n in names}
    assert not [pid for pid in _children() if _name(pid) in binaries], "a proxy process outlived its stop()"
    assert not glob.glob("/dev/shm/sselab*"), "a Squid's shared-memory segments were left behind"


def _zombie(pid) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _children() -> list[int]:
    me, out = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == me and fields[0] != "Z":
                    out.append(int(entry))
            except OSError:
                pass
    return out


def _name(pid) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def test_two_proxies_measured_side_by_side_come_back_in_order_and_as_alone(upstreams):
    for name in ("lighttpd", "Caddy"):
        needs(name)
    runs = asyncio.run(sselab.ameasure_proxies(["lighttpd", "Caddy"], upstreams))
    assert list(dict.fromkeys(r.proxy for r in runs)) == ["lighttpd", "Caddy"]
    by = {(r.proxy, r.setting, r.check, r.http): r for r in runs}
    assert {by[("lighttpd", "defaults", "stream", h)].timeline.verdict for h in upstreams} == {"held-until-end"}
    assert {by[("Caddy", "defaults", "stream", h)].timeline.verdict for h in upstreams} <= STREAMS
    settings = [s for name in ("lighttpd", "Caddy") for s in plan(sselab.PROXY_CLASSES[name])]
    assert len(runs) == sum(len(group) for s in settings for group in s.groups) * len(upstreams)


def test_a_setting_with_a_stall_is_measured_again_alone_and_its_cell_says_what_changed():
    from types import SimpleNamespace

    def run(setting, check, http, verdict):
        return ProxyRun("Squid", setting, check, http, SimpleNamespace(verdict=verdict))

    first = [run("defaults", "stream", "h11", "real-time"), run("defaults", "stream", "httptools", "stalled"),
             run("recommended", "stream", "h11", "real-time")]
    measured = []

    async def measure(cls, setting, upstreams):  # what ameasure_setting returns: the setting, again
        measured.append((cls.program, setting.name))
        return [run(setting.name, "stream", "h11", "real-time"), run(setting.name, "stream", "httptools", "real-time")]

    again = asyncio.run(_stalls_measured_again(first, {}, measure))
    assert measured == [("Squid", "defaults")], "only the setting with the stall, once"
    assert [r.outcome for r in again] == [
        "real-time", "real-time (measured again alone; beside other proxies: stalled)", "real-time"]
    assert again[2] is first[2], "other settings keep their runs"

    async def stalls_again(cls, setting, upstreams):  # a stall the proxy makes comes back
        return [run(setting.name, "stream", "h11", "real-time"), run(setting.name, "stream", "httptools", "stalled")]

    assert [r.outcome for r in asyncio.run(_stalls_measured_again(first, {}, stalls_again))][1] == "stalled"
