# Solution: ~3 KB events through nginx's defaults, with 16 KB buffers.
# Prediction: h11 answers nginx's HTTP/1.0 request close-delimited, so nginx passes the stream
# on one full 16 KB buffer at a time: about 5 events per burst, and with 10 events (~30 KB)
# two bursts -> "batched" (or "held-until-end" if everything lands in the last buffer).
# httptools answers chunked, so each complete chunk passes at once -> "real-time".
# The verdicts below are measured, not assumed.
import sselab
from servers import article_headers

exercise = {}
for http in ("h11", "httptools"):
    upstream = sselab.serve(article_headers.app, name=f"04-exercise-{http}", http=http)
    with sselab.NginxProxy(upstream, name=f"04-exercise-nginx-{http}",
                           proxy_buffer_size="16k", proxy_buffers="4 16k") as proxy:
        exercise[f"3 KB events, 16k buffers · {http}"] = await sselab.aprobe(
            proxy.url + "/events?n=10&interval=0.05&pad=3000")
for name, t in exercise.items():
    print(f"{name}: {t.verdict}; bursts of up to {t.summary['largest_burst']} events "
          f"({t.summary['largest_burst_bytes']} B)")
sselab.plot_runs(exercise)
