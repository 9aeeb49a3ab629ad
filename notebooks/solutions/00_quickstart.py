# Solution: ~2 KB events through nginx's defaults, h11 upstream (a close-delimited body).
# The rule from section 3: nginx passes such a body on one full buffer (one memory page) at a
# time. Two padded events fill a 4 KB page, so expect bursts of about two events, one burst every
# other send (about 0.16 s apart), and the verdict "batched". Nine buffers could hold the whole
# stream, but nginx does not wait for them all: each one leaves as soon as it is full.
# The verdict, the bursts and the read sizes printed below are this run's measurement.
import resource

import sselab
from servers import ticker

padded_upstream = sselab.serve(ticker.app, name="quickstart-exercise", http="h11")
padded_proxy = sselab.NginxProxy(padded_upstream, name="quickstart-exercise-nginx").start()
padded = await sselab.aprobe(padded_proxy.url + "/events?n=15&interval=0.08&pad=2000")
print(padded.verdict, "-", padded.reason)
print("events per burst:", [len(burst) for burst in padded.bursts])
print("bytes per read:  ", [read.bytes for read in padded.reads], f"(memory page: {resource.getpagesize()} B)")
sselab.plot_timeline(padded, "2 KB events, nginx defaults")
