"""assets/coze.png: three users of a Coze relay at once, with the real cozepy SDK and the stand-in.

One crowd figure (``sselab.plot_crowd``): a panel per relay, the article's (sync SDK in an
``async def`` generator), the same with ``await asyncio.sleep(0)``, and ``AsyncCoze``, titled
with the crowd's verdict; a row per user (the top row: one user alone), all on one time axis.
Run by scripts/figures; every number in the figure comes from this run (notebook 10).
"""

import asyncio
from pathlib import Path

import sselab
from servers import coze_relay_article, coze_relay_async, coze_standin


async def measure(standin_url: str) -> dict:
    cfg = dict(base_url=standin_url, token="demo-token", bot_id="7379462189365198898")
    relays = {"article": (coze_relay_article, "/chat"), "article + sleep(0)": (coze_relay_article, "/chat-sleep0"),
              "AsyncCoze": (coze_relay_async, "/chat")}
    crowds = {}
    for name, (module, route) in relays.items():
        with sselab.BackgroundServer(module.make_app(**cfg), name=f"figure-coze-{name}") as relay:
            alone = await sselab.aprobe(relay.url + route)
            crowds[name] = await sselab.acrowd(relay.url + route, users=3, baseline=alone)
    return crowds


def main() -> None:
    app = coze_standin.CozeStandIn(first_delay=0.3, interval=0.04, deltas=15)
    with sselab.BackgroundServer(app, name="figure-coze-standin") as standin:
        crowds = asyncio.run(measure(standin.url))
    out = Path(__file__).with_name("coze.png")
    sselab.plot_crowd(crowds).savefig(out, dpi=100)
    print(sselab.crowd_table(crowds))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
