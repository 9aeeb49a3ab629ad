# 答案:约 2 KB 的事件,经过 nginx 的默认配置,上游为 h11(正文以关闭连接结束)。
# 第 3 节的规则:nginx 每次转发这种正文的一个装满的缓冲区(一个内存页)。两个填充后的事件
# 就能装满 4 KB 的内存页,所以预期每批约两个事件、每隔一次发送到达一批(间隔约 0.16 s),
# 结论为 "batched"。九个缓冲区本可以装下整个流,但 nginx 不会等它们全部装满:
# 每个缓冲区一装满就立刻转发。下面打印的结论、各批事件数和每次读取的字节数都是本次运行的测量结果。
# (代码与 notebooks/solutions/00_quickstart.py 完全相同,由 tests/test_docs.py 检查。)
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
