"""A chatbot relay, judged three ways: one user, several users, and the user who leaves.

Defined in notebooks/11_openai.ipynb (the same questions notebook 10 asks of the Coze relays).
The stand-ins (``servers/openai_standin.py``, ``servers/coze_standin.py``) keep a ledger of
every answer: when each token was generated and how the answer ended. :func:`upstream_after_leaving`
reads it for the answer a leaving user had asked for (its question starts with the relay's
name), so the table says whether the model went on generating for nobody. :func:`sdk_chat`
runs the real SDK as a client and reports what its own parser made of a stream.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._concurrent import Crowd
from ._table import Table
from ._timeline import Timeline


@dataclass
class Leave:
    """What the upstream did after the user of ``relay`` left."""

    relay: str
    how: str  # the stand-in's record: "client left" (stopped), "completed" (ran on), ...
    generated_after: int  # tokens generated after the user left
    ended_after: float | None  # seconds from leaving to the upstream answer's end

    @property
    def stopped(self) -> bool:
        return self.how == "client left"

    def __str__(self) -> str:
        if self.stopped:
            return f"stopped {self.ended_after * 1000:.0f} ms after ({self.generated_after} more tokens)"
        return f"ran on: {self.how}, {self.generated_after} tokens for nobody"


def upstream_after_leaving(relay: str, chats, left_at: float) -> Leave | None:
    """The ledger record of the answer ``relay``'s leaving user asked for (question ``"<relay>: ..."``)."""
    chat = next((c for c in chats if c.question.startswith(relay + ":")), None)
    if chat is None:
        return None
    ended = None if chat.ended is None else max(0.0, chat.ended - left_at)
    return Leave(relay, chat.how, chat.generated_after(left_at), ended)


class RelayTable(Table):
    COLUMNS = ("relay", "one user", "three users", "upstream after the user left")

    def __init__(self, alone: dict[str, Timeline], crowds: dict[str, Crowd], leaves: dict[str, Leave | None]):
        self.alone, self.crowds, self.leaves = alone, crowds, leaves

    def rows(self) -> list[tuple[str, ...]]:
        out = []
        for name, t in self.alone.items():
            crowd = self.crowds.get(name)
            leave = self.leaves.get(name)
            out.append((name, t.verdict, crowd.verdict if crowd else "-",
                        str(leave) if leave else "no upstream answer recorded"))
        return out


def relay_table(alone, crowds, leaves) -> RelayTable:
    """relay × one user / several users / upstream after the user left, all from the run."""
    return RelayTable(alone, crowds, leaves)


@dataclass
class SdkRun:
    """What an SDK's stream iterator made of one response."""

    label: str
    chunks: int
    text: str
    error: str | None  # "module.Type: message" of what it raised, None if it finished

    @property
    def outcome(self) -> str:
        return f"parsed: {self.chunks} chunks" if self.error is None else f"raised {self.error}"


def sdk_chat(label: str, client, *, model: str = "any", question: str = "hi") -> SdkRun:
    """Stream a chat completion with an ``openai.OpenAI`` client; never raise, report."""
    chunks, text = 0, ""
    try:
        for chunk in client.chat.completions.create(model=model, stream=True,
                                                    messages=[{"role": "user", "content": question}]):
            chunks += 1
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
    except Exception as exc:  # the point: which exception, from where
        return SdkRun(label, chunks, text, f"{type(exc).__module__}.{type(exc).__name__}: {str(exc)[:120]}")
    return SdkRun(label, chunks, text, None)


class SdkTable(Table):
    COLUMNS = ("stream", "what the SDK did", "text received")

    def __init__(self, runs: list[SdkRun]) -> None:
        self.runs = runs

    def rows(self) -> list[tuple[str, ...]]:
        return [(r.label, r.outcome, f"{len(r.text)} characters") for r in self.runs]


def sdk_table(runs: list[SdkRun]) -> SdkTable:
    return SdkTable(runs)
