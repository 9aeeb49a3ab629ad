"""assets/https_http2.png: 8 EventSources in headless Chromium over HTTP/1.1 and over HTTP/2.

Run by scripts/figures; needs nginx and Chromium (notebook 07, section 6). Every number in the
figure comes from this run.
"""

import asyncio
from pathlib import Path

import sselab
from servers import many_streams


async def measure() -> list:
    certs = sselab.lab_certificates("figure")
    try:
        page = sselab.serve(many_streams.app, name="figure-page", http="httptools")
        targets = {"HTTP/1.1": page.url,
                   "HTTPS, HTTP/1.1 (nginx)": sselab.NginxProxy(
                       page, name="figure-h1", tls=certs, proxy_buffering=False).start().url,
                   "HTTPS, HTTP/2 (nginx)": sselab.NginxProxy(
                       page, name="figure-h2", tls=certs, http2=True, proxy_buffering=False).start().url,
                   "HTTPS, HTTP/2 (hypercorn)": sselab.serve_hypercorn(
                       many_streams.app, name="figure-hypercorn", tls=certs).url}
        async with sselab.HeadlessBrowser(trust=certs) as browser:
            return [await sselab.aopen_many(browser, url, label=label, n=8) for label, url in targets.items()]
    finally:
        sselab.stop_all()


def main() -> None:
    runs = asyncio.run(measure())
    out = Path(__file__).with_name("https_http2.png")
    sselab.plot_many_streams(runs).savefig(out, dpi=100)
    print(sselab.many_streams_table(runs))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
