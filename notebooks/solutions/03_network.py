# Prediction first: the delayed-ACK timeout is 40 ms (TCP_ATO_MIN on Linux). A next request sent
# 10 ms after the previous response counts as "replying at once": ping-pong mode, delayed ACKs,
# so the first event waits ~40 ms. After 100 ms idle it does not: the first event is on time.
raw = net_raw.serve("03-raw")
for idle in (0.01, 0.1):
    fresh, reused = sselab.socket_probe(f"{raw.url}/events?n=4&gap=0.05&writes=1&nodelay=0",
                                        requests=2, idle=idle)
    print(f"idle {idle * 1000:3.0f} ms before the 2nd request: its first event arrived "
          f"{reused.events[0].delay * 1000:.1f} ms after it was sent")
