# Solution: ~2 KB events through nginx's defaults, h11 upstream.
# nginx's buffers fill after a couple of events, so the stream should come out in bursts
# (or, if the total stays under the buffers, all at the end). The verdict below is measured.
import sselab
from servers import ticker

padded_upstream = sselab.serve(ticker.app, name="quickstart-exercise", http="h11")
padded_proxy = sselab.NginxProxy(padded_upstream, name="quickstart-exercise-nginx").start()
padded = await sselab.aprobe(padded_proxy.url + "/events?n=15&interval=0.08&pad=2000")
print(padded.verdict, "-", padded.reason)
sselab.plot_timeline(padded, "2 KB events, nginx defaults")
