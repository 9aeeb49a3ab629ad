# Prediction first. "article" never hears that the client left: it makes every item the client
# did not read (10 - 3 = 7) and ends when the stream would have ended, later with a longer gap.
# "article + sleep(0)" hears it a few loop turns later, one turn per item: about the same few items
# for nobody whatever the gap, so twice the gap means about twice the time. "async upstream" is
# cancelled as soon as the server hears it: no item for nobody, at either gap.
for name in ("article", "article + sleep(0)", "async upstream"):
    for gap in (0.05, 0.1):
        record, left = await leave_early(name, after=3, gap=gap)
        ended = "not ended" if record.ended is None else f"{(record.ended - left) * 1000:+.0f} ms"
        print(f"{name:20} gap {gap * 1000:3.0f} ms: {record.how:9} made for nobody "
              f"{record.produced_after(left)}, ended {ended} after the client left")
