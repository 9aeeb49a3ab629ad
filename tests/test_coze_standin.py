"""The real, unmodified cozepy SDK (sync and async) against servers/coze_standin.py, every scenario."""

import asyncio
import warnings

import httpx
import pytest
from authlib.deprecate import AuthlibDeprecationWarning

import sselab
from servers import coze_standin

warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)
from cozepy import AsyncCoze, AsyncTokenAuth, ChatEventType, Coze, CozeAPIError, Message, TokenAuth  # noqa: E402

BOT = "7379462189365198898"
DELTA = ChatEventType.CONVERSATION_MESSAGE_DELTA


@pytest.fixture
def standin():
    app = coze_standin.CozeStandIn(first_delay=0.02, interval=0.005, deltas=15, fail_after=4)
    with sselab.BackgroundServer(app, name="test-coze-standin") as server:
        yield app, server


def messages(text):
    return [Message.build_user_question_text(text)]


def sync_events(url, text, token="demo-token"):
    coze = Coze(auth=TokenAuth(token), base_url=url)
    return list(coze.chat.stream(bot_id=BOT, user_id="test", additional_messages=messages(text)))


async def async_events(url, text, token="demo-token"):
    coze = AsyncCoze(auth=AsyncTokenAuth(token), base_url=url)
    return [e async for e in coze.chat.stream(bot_id=BOT, user_id="test", additional_messages=messages(text))]


def both(url, text, token="demo-token"):
    """Run the same chat through the sync and the async client; return both event lists."""
    return sync_events(url, text, token), asyncio.run(async_events(url, text, token))


def test_a_normal_chat_parses_in_both_clients(standin):
    app, server = standin
    for events in both(server.url, "hello"):
        names = [e.event for e in events]
        assert names[:2] == [ChatEventType.CONVERSATION_CHAT_CREATED, ChatEventType.CONVERSATION_CHAT_IN_PROGRESS]
        assert names[-1] == ChatEventType.CONVERSATION_CHAT_COMPLETED
        deltas = [e.message.content for e in events if e.event == DELTA]
        assert len(deltas) == 15
        completed = [e for e in events if e.event == ChatEventType.CONVERSATION_MESSAGE_COMPLETED]
        assert completed[0].message.content == "".join(deltas)
        chat = events[-1].chat
        assert chat.usage.output_count == 15 and chat.usage.token_count > 15
        assert len(chat.id) == 19 and chat.id.isdigit() and chat.conversation_id.isdigit()
        assert events[0].response.logid  # X-Tt-Logid on the stream too
    assert [c.how for c in app.ledger.chats[-2:]] == ["completed", "completed"]
    assert app.ledger.open == 0


def test_a_bad_token_is_coze_401_with_a_logid(standin):
    _, server = standin
    with pytest.raises(CozeAPIError) as sync_error:
        sync_events(server.url, "hello", token="not-the-token")
    with pytest.raises(CozeAPIError) as async_error:
        asyncio.run(async_events(server.url, "hello", token="not-the-token"))
    for exc in (sync_error.value, async_error.value):
        assert exc.code == 4100 and exc.msg == "authentication is invalid"
        assert len(exc.logid) == 34 and exc.logid[:14].isdigit()
    raw = httpx.post(server.url + "/v3/chat?conversation_id=", json={}, headers={"Authorization": "Bearer x"})
    assert raw.status_code == 401 and raw.headers["x-tt-logid"] == raw.json()["detail"]["logid"]


def test_the_environment_variable_replaces_the_demo_token(standin, monkeypatch):
    _, server = standin
    monkeypatch.setenv("COZE_STANDIN_TOKEN", "classroom-token")
    assert any(e.event == DELTA for e in sync_events(server.url, "hi", token="classroom-token"))
    with pytest.raises(CozeAPIError):
        sync_events(server.url, "hi", token="demo-token")


def test_chat_failed_is_an_ordinary_event(standin):
    app, server = standin
    for events in both(server.url, "please #failed"):
        assert events[-1].event == ChatEventType.CONVERSATION_CHAT_FAILED
        assert events[-1].chat.last_error.code == 5000
        assert sum(e.event == DELTA for e in events) == 4
    assert app.ledger.latest().how == "failed"


def test_an_error_event_raises_mid_stream(standin):
    _, server = standin
    with pytest.raises(Exception, match="error event"):
        sync_events(server.url, "please #error")
    with pytest.raises(Exception, match="error event"):
        asyncio.run(async_events(server.url, "please #error"))


def test_a_cut_raises_remote_protocol_error(standin, capfd):
    app, server = standin
    with pytest.raises(httpx.RemoteProtocolError):
        sync_events(server.url, "please #cut")
    with pytest.raises(httpx.RemoteProtocolError):
        asyncio.run(async_events(server.url, "please #cut"))
    assert app.ledger.latest().how == "cut"
    assert "ASGI callable" not in capfd.readouterr().err  # the deliberate cut is not logged


def test_the_ledger_counts_open_chats_and_notices_a_hang_up():
    app = coze_standin.CozeStandIn(first_delay=0.02, interval=0.05, deltas=15)

    async def leave_after_two(url):
        coze = AsyncCoze(auth=AsyncTokenAuth("demo-token"), base_url=url)
        two = asyncio.Event()

        async def read():
            seen = 0
            async for event in coze.chat.stream(bot_id=BOT, user_id="t", additional_messages=messages("hi")):
                seen += event.event == DELTA
                if seen == 2:
                    two.set()

        reader = asyncio.ensure_future(read())
        await asyncio.wait_for(two.wait(), 5)
        opened = app.ledger.open
        reader.cancel()  # what Starlette does to a relay whose user left
        await asyncio.gather(reader, return_exceptions=True)
        for _ in range(100):
            if app.ledger.open == 0:
                break
            await asyncio.sleep(0.01)
        return opened

    with sselab.BackgroundServer(app, name="test-coze-standin-leave") as server:
        assert asyncio.run(leave_after_two(server.url)) == 1
    assert app.ledger.open == 0
    assert app.ledger.latest().how == "client left"
    assert len(app.ledger.latest().deltas) < 10
