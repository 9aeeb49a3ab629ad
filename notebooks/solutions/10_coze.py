# Leave the def-generator relay early, then run the cyclic garbage collector at once.
import gc

t_left = await leave_early("gc exercise", RELAYS["def generator"])
await asyncio.sleep(0.1)  # the relay notices the hang-up and cancels the response first
freed = gc.collect()
await asyncio.sleep(1.0)  # longer than the rest of the answer
chat = next(c for c in standin_app.ledger.chats if c.question.startswith("gc exercise:"))
print(f"gc.collect() found {freed} unreachable objects; the upstream chat {chat.how}: "
      f"{chat.generated_after(t_left)} tokens generated after the user left, "
      f"ended {(chat.ended - t_left) * 1000:.0f} ms after they left")
