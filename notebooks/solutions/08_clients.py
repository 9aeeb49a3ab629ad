# Solution: curl without -N, when each event is about 1 KB.
# stdio fills its 4096-byte buffer before curl's output reaches the pipe, so the program
# reading the pipe gets 4 KB pieces (about four events each) and the rest at the end.
if sselab.find_curl():
    big = sselab.measure_client("curl", server.url + "/events?n=12&interval=0.08&pad=1000")
    print(big.verdict, "-", big.reason)
    print("pieces read from the pipe (bytes):", [r.bytes for r in big.reads])
    display(sselab.plot_timeline(big, "curl without -N, ~1 KB events"))
else:
    print("curl is not installed (sudo apt-get install curl), so there is nothing to measure.")
