"""Where a streamed answer lives while it is being written: the model runs once, readers follow.

A chat answer should not belong to one HTTP connection. Here the "model" runs in its own
thread (standing in for a worker, a queue or Redis) and appends each token to the answer's
list; any connection, on any server, reads the list from wherever it left off. So a client
that was cut can come back and ask for "everything after event 7" (its ``Last-Event-ID``),
and nobody pays for the tokens twice: ``model_runs`` counts how often the model was asked.

    store = AnswerStore()
    answer_id, answer = store.new("tell me a story", n=16, interval=0.06)  # the POST
    store.run_once(answer_id)  # the first reader starts the model; later ones just read
    answer.tokens[:3], answer.done, answer.model_runs

Readers poll the list every few milliseconds (as ``XREAD BLOCK`` would wait on a Redis
stream): the list is shared between threads and event loops, so no asyncio primitive fits.

Introduced in notebooks/09_reconnect.ipynb; ``servers/reconnect_patterns.py`` serves it.
"""

import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field


@dataclass
class Answer:
    prompt: str
    n: int
    interval: float
    pause_at: int | None = None  # the model "thinks" before this token (a tool call, say) ...
    pause: float = 0.0  # ... for this many seconds
    tokens: list = field(default_factory=list)  # (seq, sent) per token, in order
    done: bool = False
    model_runs: int = 0
    started: bool = False
    requests: int = 0  # stream requests the servers saw for this answer

    def write(self) -> None:
        """Run the model: one token every ``interval`` s, stamped with the monotonic clock."""
        self.model_runs += 1
        for seq in range(self.n):
            if seq:
                time.sleep(self.interval)
            if seq == self.pause_at:
                time.sleep(self.pause)
            self.tokens.append((seq, time.monotonic()))
        self.done = True


class AnswerStore:
    """Answers by id. One per server in the naive case; shared by restarts when it is external."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.name = uuid.uuid4().hex[:8]  # tells one store from another (a restart's new one)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def prompts(self) -> int:
        """Prompts received: one per answer, however many times it was streamed."""
        return len(self.answers)

    @property
    def model_runs(self) -> int:
        """Times the model was asked, over every answer: what the tokens cost."""
        return sum(answer.model_runs for answer in self.answers.values())

    def new(self, prompt: str, **settings) -> tuple[str, Answer]:
        """Keep the prompt (sent once, in a POST); the model has not run yet."""
        answer_id = f"a{next(self._ids)}"
        self.answers[answer_id] = Answer(prompt, **settings)
        return answer_id, self.answers[answer_id]

    def run_once(self, answer_id: str) -> Answer:
        """Start the model in its own thread the first time anyone asks; it runs to the end
        whoever is listening. Raises KeyError for an answer this store never had."""
        answer = self.answers[answer_id]
        with self._lock:
            if not answer.started:
                answer.started = True
                threading.Thread(target=answer.write, name=f"model-{answer_id}", daemon=True).start()
        return answer
