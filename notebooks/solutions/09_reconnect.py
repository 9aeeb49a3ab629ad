# A page that never closes its EventSource, after one network cut (4 s each)
if not HAVE_BROWSER:
    print("Chromium is missing: the exercise needs the browser's EventSource.")
else:
    async with sselab.HeadlessBrowser() as browser, sselab.NetworkCut(server, after=0.4) as cut:
        never_closed = [await sselab.afollow("eventsource", cut, pattern=pattern, browser=browser,
                                             close_on_done=False, max_seconds=4)
                        for pattern in ("rerun", "resume")]
    # rerun: every end of stream is a reconnect, and every reconnect runs the model again.
    # resume: after the done event the stream ends, the browser reconnects with the last id,
    # and /resume answers 204 for a finished answer: the browser stops for good.
    display(sselab.reconnect_table(never_closed))
