"""The OpenAI stand-in with the real openai SDK (sync and async, chat completions and responses,
every error case), the relays, and what the SDK's own parser does with relays' additions."""

import asyncio
import time
from urllib.parse import quote

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

import sselab
from servers import openai_relay_article, openai_relay_async, openai_relay_thread, openai_reserve, openai_standin

QUESTION = [{"role": "user", "content": "hi"}]


@pytest.fixture
def standin():
    app = openai_standin.OpenAIStandIn(first_delay=0.05, interval=0.02, tokens=12)
    server = sselab.serve(app, name="test-openai-standin")
    yield app, server.url + "/v1"
    sselab.stop_all()


def client(base, **options):
    return OpenAI(api_key="demo-key", base_url=base, max_retries=0, **options)


def test_chat_completions_stream_with_usage_sync_and_async(standin):
    app, base = standin
    chunks = list(client(base).chat.completions.create(model="any", messages=QUESTION, stream=True,
                                                       stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "".join(openai_standin.TOKENS[:12])
    assert chunks[-2].choices[0].finish_reason == "stop" and chunks[-1].usage.completion_tokens == 12
    assert app.ledger.latest().how == "completed"

    async def read():
        stream = await AsyncOpenAI(api_key="demo-key", base_url=base).chat.completions.create(
            model="any", messages=QUESTION, stream=True)
        return [c async for c in stream]

    assert len(asyncio.run(read())) == 14  # role chunk, 12 tokens, finish chunk


def test_responses_stream_events_and_final_response(standin):
    _, base = standin
    with client(base).responses.stream(model="any", input="hi") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert kinds.count("response.output_text.delta") == 12
    assert final.output_text == "".join(openai_standin.TOKENS[:12])


@pytest.mark.parametrize("question, error", [("#429", openai.RateLimitError), ("#500", openai.InternalServerError),
                                             ("#error", openai.APIError), ("#cut", openai.APIConnectionError)])
def test_error_cases_raise_the_sdk_exceptions(standin, question, error):
    _, base = standin
    with pytest.raises(error):
        for _ in client(base).chat.completions.create(model="any", stream=True,
                                                      messages=[{"role": "user", "content": question}]):
            pass


def test_a_bad_key_is_openais_401_and_the_responses_error_event_is_yielded_not_raised(standin):
    _, base = standin
    with pytest.raises(openai.AuthenticationError, match="invalid_api_key|Incorrect API key"):
        OpenAI(api_key="wrong-key-0000", base_url=base).chat.completions.create(
            model="m", messages=QUESTION, stream=True)
    last = list(client(base).responses.create(model="any", input="#error", stream=True))[-1]
    assert last.type == "error"


@pytest.mark.slow
def test_the_sdk_retries_429_twice_by_default(standin):
    app, base = standin
    with pytest.raises(openai.RateLimitError):
        OpenAI(api_key="demo-key", base_url=base).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "#429"}], stream=True)
    assert sum(c.how == "429" for c in app.ledger.chats) == 3


@pytest.mark.slow
def test_heartbeats_after_an_id_and_a_lone_retry_break_the_sdks_parser(standin):
    _, base = standin
    relay = sselab.serve(openai_reserve.make_app(upstream=base), name="test-openai-reserve").url + "/v1"
    runs = {name: sselab.sdk_chat(name, client(relay, default_query=query))
            for name, query in {"plain": {}, "heartbeat": {"heartbeat": 1}, "ids": {"ids": 1},
                                "retry": {"retry": 1}, "ids + heartbeat": {"ids": 1, "heartbeat": 1}}.items()}
    assert [n for n, r in runs.items() if r.error is None] == ["plain", "heartbeat", "ids"]
    assert all("JSONDecodeError" in runs[n].error for n in ("retry", "ids + heartbeat"))


@pytest.mark.slow
def test_relays_one_user_and_who_stops_the_upstream(standin):
    app, base = standin
    cfg = dict(base_url=base, api_key="demo-key", model="any")
    relays = {"article": sselab.serve(openai_relay_article.make_app(**cfg), name="test-oa-article").url + "/chat",
              "AsyncOpenAI": sselab.serve(openai_relay_async.make_app(**cfg), name="test-oa-async").url + "/chat",
              "threadpool + close": sselab.serve(openai_relay_thread.make_app(**cfg),
                                                 name="test-oa-thread").url + "/chat-threadpool-closing"}
    for url in relays.values():
        assert sselab.probe(url).verdict == "real-time"

    async def leave(name, url):
        await sselab.aprobe(f"{url}?q={quote(name + ': leaving')}", max_events=3)
        return time.monotonic()

    left = {n: asyncio.run(leave(n, u)) for n, u in relays.items()}
    time.sleep(0.6)
    leaves = {n: sselab.upstream_after_leaving(n, app.ledger.chats, t) for n, t in left.items()}
    assert leaves["AsyncOpenAI"].stopped and leaves["threadpool + close"].stopped, leaves
    assert not leaves["article"].stopped or leaves["article"].generated_after > 0, leaves
