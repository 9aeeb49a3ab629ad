"""SSE Lab's toolkit: real servers and proxies, the probe, the judges, and the figures.

Typical use in a notebook::

    import sselab
    from servers import ticker

    server = sselab.serve(ticker.app, name="ticker")
    timeline = await sselab.aprobe(server.url + "/events?n=20&interval=0.1")
    timeline.verdict, sselab.plot_timeline(timeline)
    sselab.stop_all()

Where to look, by role (each module has one job; none imports a specimen from ``servers/``)::

    run things    _server (uvicorn in a thread)   _tied (every child program: temp-dir config,
                  _nginx (NginxProxy)               reserved port, tied to the kernel by _child)
                  _proxies (Caddy, HAProxy, Apache, lighttpd, Varnish, Squid: one knob set for all)
                  _hypercorn (HTTP/2, in a thread)  _tls (throw-away certificates)
                  _asgi_servers (granian, daphne, gunicorn: child processes; _group reaps workers)
                  _jupyter  _browser (Chromium)   _registry (one per name; stop_all)
    measure       _probe (httpx) -> _recorder (reads -> events; _sse parser, _encodings)
                  _wire (plain sockets)  _clients (other client libraries)  _bystander,
                  _concurrent (second client, crowds)  _repeat  _live (watch)
                  _h2flow (HTTP/2 flow control)  _hop (hop-by-hop headers)
                  _connections (N EventSources in one browser)  _server_runs (per-server runs)
                  _proxy_runs (each proxy x setting, notebook 06)
                  _front (a TCP relay that cuts or restarts)  _faults (cut, idle timeout, restart)
                  _reconnect (one answer followed across a drop)  _eventsource_rules, _frame_variants
    judge         _proxy_signature (which proxy answered, its own fix)
                  _relays (chatbot relays: users, leaving, the SDK as client)
                  _timeline (verdicts)  _diagnose (layer + fix)  _claims (the article's claims)
    show          _plot (layout shared by all), _plot_connections, _plot_servers, _plot_reconnect,
                  _plot_crowd (figures; the bystander's are in _bystander)
                  _controls (a classroom's panel: choose parameters, press, measure, redraw)
                  _table, _report (tables, the CLI report)  _format
    lab plumbing  _env (versions)  _runner (headless notebooks)  _findings (README table)
                  _book (scripts/book: the rendered series)  __main__ (python -m sselab probe)

    request --> [probe] --reads--> [recorder: decode, parse, stamp] --> Timeline
                                                         Timeline --> verdict, diagnose(), claims
                                                         Timeline --> plot_*, tables
"""

from ._asgi_servers import SERVER_NAMES, ChildServer, serve_each
from ._browser import BrowserError, HeadlessBrowser, chromium_version, find_chromium
from ._bystander import Bystander, abystander, plot_leaving, plot_waits
from ._claims import ClaimTable, judge_claims
from ._clients import CLIENTS, client_versions, find_curl, measure_asgi, measure_client, measure_testclient
from ._concurrent import Crowd, CrowdTable, acrowd, crowd_table
from ._connections import ManyStreams, aopen_many, many_streams_table
from ._controls import Control, ControlPanel, crowd_panel, nginx_panel
from ._diagnose import DecisionTree, Diagnosis, decision_tree, diagnose
from ._env import environment_report, versions
from ._eventsource_rules import Reaction, RetryDelay, areply_reactions, aretry_delays, reaction_table, retry_table
from ._faults import CLIENT_NAMES, IdleTimeout, NetworkCut, Restart, afollow, afollow_each
from ._frame_variants import Parsed, aframe_variants, frame_table
from ._front import TcpFront
from ._h2flow import FlowControl, aflow_control
from ._hop import HopHeaders, ahop_headers, h2_client_rejects, hop_table
from ._hypercorn import HypercornServer, serve_hypercorn
from ._jupyter import JupyterError, JupyterServer, jupyter_proxy_path, stop_jupyter_servers
from ._live import watch
from ._mystery import Mysteries, start_mysteries
from ._nginx import NginxError, NginxProxy, find_nginx, nginx_version, running_proxies, stop_proxies
from ._plot import draw_timeline, plot_delays, plot_runs, plot_timeline
from ._plot_connections import plot_many_streams
from ._plot_crowd import plot_crowd
from ._plot_proxies import plot_proxy_matrix
from ._plot_reconnect import plot_followed
from ._plot_servers import plot_servers
from ._probe import ProbeError, aprobe, probe
from ._proxies import (
    PROXY_CLASSES,
    ApacheProxy,
    CaddyProxy,
    HAProxyProxy,
    LabProxy,
    LighttpdProxy,
    ProxyError,
    SquidProxy,
    VarnishProxy,
    installed_proxies,
    proxy_versions,
)
from ._proxy_runs import ProxyRun, ProxyTable, ameasure_proxies, ameasure_proxy, proxy_table, recommended_config
from ._proxy_signature import which_proxy
from ._reconnect import Followed, reconnect_table
from ._registry import CERTIFICATES as _CERTIFICATES
from ._relays import Leave, RelayTable, SdkRun, relay_table, sdk_chat, sdk_table, upstream_after_leaving
from ._repeat import Repeats, arepeat
from ._report import VerdictGrid, VerdictTable, text_report, verdict_grid, verdict_table
from ._server import BackgroundServer, ServerError, running_servers, serve, stop_servers
from ._server_runs import (
    BackgroundProbes,
    QuietRun,
    Reload,
    ServerRun,
    Silence,
    ameasure_server,
    ameasure_servers,
    aquiet,
    awhile_reloading,
    probe_in_background,
    quiet_table,
    server_table,
    silence_table,
)
from ._timeline import Event, Read, Timeline
from ._tls import LabCertificates, lab_certificates
from ._wire import ResponseHead, response_head, server_tcp_nodelay, socket_probe

__all__ = [
    "abystander",
    "acrowd",
    "aflow_control",
    "afollow",
    "afollow_each",
    "aframe_variants",
    "ahop_headers",
    "ameasure_proxies",
    "ameasure_proxy",
    "ameasure_server",
    "ameasure_servers",
    "aopen_many",
    "ApacheProxy",
    "aprobe",
    "aquiet",
    "arepeat",
    "areply_reactions",
    "aretry_delays",
    "awhile_reloading",
    "BackgroundProbes",
    "BackgroundServer",
    "BrowserError",
    "Bystander",
    "CaddyProxy",
    "ChildServer",
    "chromium_version",
    "ClaimTable",
    "CLIENT_NAMES",
    "client_versions",
    "CLIENTS",
    "Control",
    "ControlPanel",
    "Crowd",
    "crowd_panel",
    "crowd_table",
    "CrowdTable",
    "decision_tree",
    "DecisionTree",
    "diagnose",
    "Diagnosis",
    "draw_timeline",
    "environment_report",
    "Event",
    "find_chromium",
    "find_curl",
    "find_nginx",
    "FlowControl",
    "Followed",
    "frame_table",
    "h2_client_rejects",
    "HAProxyProxy",
    "HeadlessBrowser",
    "hop_table",
    "HopHeaders",
    "HypercornServer",
    "IdleTimeout",
    "installed_proxies",
    "judge_claims",
    "jupyter_proxy_path",
    "JupyterError",
    "JupyterServer",
    "lab_certificates",
    "LabCertificates",
    "LabProxy",
    "Leave",
    "LighttpdProxy",
    "many_streams_table",
    "ManyStreams",
    "measure_asgi",
    "measure_client",
    "measure_testclient",
    "Mysteries",
    "NetworkCut",
    "nginx_panel",
    "nginx_version",
    "NginxError",
    "NginxProxy",
    "Parsed",
    "plot_crowd",
    "plot_delays",
    "plot_followed",
    "plot_leaving",
    "plot_many_streams",
    "plot_proxy_matrix",
    "plot_runs",
    "plot_servers",
    "plot_timeline",
    "plot_waits",
    "probe",
    "probe_in_background",
    "ProbeError",
    "PROXY_CLASSES",
    "proxy_table",
    "proxy_versions",
    "ProxyError",
    "ProxyRun",
    "ProxyTable",
    "quiet_table",
    "QuietRun",
    "Reaction",
    "reaction_table",
    "Read",
    "recommended_config",
    "reconnect_table",
    "relay_table",
    "RelayTable",
    "Reload",
    "Repeats",
    "response_head",
    "ResponseHead",
    "Restart",
    "retry_table",
    "RetryDelay",
    "running_proxies",
    "running_servers",
    "sdk_chat",
    "sdk_table",
    "SdkRun",
    "serve",
    "serve_each",
    "serve_hypercorn",
    "SERVER_NAMES",
    "server_table",
    "server_tcp_nodelay",
    "ServerError",
    "ServerRun",
    "Silence",
    "silence_table",
    "socket_probe",
    "SquidProxy",
    "start_mysteries",
    "stop_all",
    "stop_jupyter_servers",
    "stop_proxies",
    "stop_servers",
    "TcpFront",
    "text_report",
    "Timeline",
    "upstream_after_leaving",
    "VarnishProxy",
    "verdict_grid",
    "verdict_table",
    "VerdictGrid",
    "VerdictTable",
    "versions",
    "watch",
    "which_proxy",
]


def stop_all() -> None:
    """Stop everything this process started: Jupyter servers, proxies, servers, then remove
    the throw-away TLS certificates."""
    stop_jupyter_servers()
    stop_proxies()
    stop_servers()
    _CERTIFICATES.stop_all()
