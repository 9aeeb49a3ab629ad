# Probe every mystery, then let the decision tree name a layer for each.
# From a shell, the same for one letter: python -m sselab probe --compressed URL
my_runs = {}
for letter, url in mysteries.urls.items():
    my_runs[letter] = await sselab.aprobe(url, accept_encoding="gzip")  # as a browser asks
    d = sselab.diagnose(my_runs[letter])
    ev = d.evidence
    print(f"{letter}: {d.verdict:<14} reads {ev['reads']:>3} (steady size: {ev['steady_read_bytes']}), "
          f"first byte {ev['first_byte']:.2f} s, Server: {ev['headers'].get('server')}, "
          f"Content-Encoding: {ev['headers'].get('content-encoding')} -> {d.layer}")
sselab.plot_runs(my_runs)
