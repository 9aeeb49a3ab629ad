# Prediction first: a third client within default_ttl (120 s) gets the same stored copy,
# replayed at once, its first event sent seconds before the request. With Cache-Control:
# no-cache on the response, Varnish's built-in VCL makes it a hit-for-miss: every client is
# fetched fresh, in real time.
import asyncio

upstream = UPSTREAMS["h11"].url
with sselab.VarnishProxy(UPSTREAMS["h11"], name="06-exercise") as varnish:
    for send in ("", "&send=cache-control"):
        path = f"/ticker/events?n=10&interval=0.05{send}"
        first = await sselab.aprobe(varnish.url + path)
        await asyncio.sleep(2)
        third = await sselab.aprobe(varnish.url + path)
        print(f"{send or 'no header'}: first {first.verdict}, 2 s later {third.verdict}"
              + (f" (first event sent {-third.events[0].sent:.1f} s before the request)"
                 if third.verdict == "replayed" else ""))
