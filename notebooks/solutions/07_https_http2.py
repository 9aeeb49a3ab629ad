# Prediction first: a 4k TLS buffer holds about 4 events of 1 kB, so over HTTPS/1.1 the events
# leave in bursts of ~4 (batched); HTTP/2 flushes every DATA frame, so it stays real-time.
exercise = sselab.serve(ticker.app, name="07-exercise", http="httptools")
proxy = sselab.NginxProxy(exercise, name="07-exercise-nginx", tls=certs, http2=True, ssl_buffer_size="4k").start()
runs = {f"4k, {'HTTP/2' if h2 else 'HTTPS/1.1'}": await sselab.aprobe(
            proxy.url + "/events?n=12&interval=0.05&pad=1000", http2=h2, verify=certs.ca_path)
        for h2 in (False, True)}
for name, t in runs.items():
    print(f"{name}: {t.verdict}, largest burst {t.summary['largest_burst']} events - {t.reason}")
proxy.stop()
exercise.stop()
