# Prediction first: without a heartbeat granian keeps a text/plain response's headers until the
# first body chunk, so they arrive with the first event (~1.5 s). With heartbeat=0.5 the app's
# first chunk is the ': connected' comment, sent at once: the headers leave with it (~0 s).
granian = sselab.serve(first_token.app, server="granian", name="05-exercise")
for heartbeat in (0, 0.5):
    t = await sselab.aprobe(granian.url + f"/events?first=1.5&media=text/plain&heartbeat={heartbeat}",
                            require_event_stream=False)
    print(f"heartbeat {heartbeat}: headers after {t.headers_at * 1000:.0f} ms, "
          f"first event after {t.summary['first_event'] * 1000:.0f} ms")
granian.stop()
