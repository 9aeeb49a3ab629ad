# Prediction first: nothing closes the sync SDK's response in the plain `def` generator, so
# each upstream answer runs to its end ("completed") and generates the rest of its tokens for
# nobody; "threadpool + close" closes it in `finally`: "client left", within a token or two.
for relay in ("def generator", "threadpool + close"):
    names = [f"{relay} user {i}" for i in range(3)]
    times = await asyncio.gather(*(leave_early(name, RELAYS[relay]) for name in names))
    await asyncio.sleep(0.8)
    for name, t in zip(names, times):
        print(name, "->", sselab.upstream_after_leaving(name, standin_app.ledger.chats, t))
