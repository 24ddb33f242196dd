"""Reading a streamed reply from raw bytes: every way the wire may split or end its lines."""

from __future__ import annotations

import json

import pytest

from editor_agent.agent.reply import StreamError, read_streamed_reply, server_sent_events
from editor_agent.agent.requestbody import RequestEncoder
from editor_agent.testing.sse import encode, message_events

MESSAGE = {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-opus-4-5",
    "content": [
        {"type": "thinking", "thinking": "Ünïcode – thoughts 思考", "signature": "sig=="},
        {"type": "text", "text": "Looking at the file — “quoted” 日本語 text.\n"},
        {"type": "tool_use", "id": "toolu_1", "name": "str_replace_based_edit_tool",
         "input": {"command": "create", "path": "/repo/ü.py", "file_text": "print('é')\r\n" * 3}},
    ],
    "stop_reason": "tool_use", "stop_sequence": None,
    "usage": {"input_tokens": 10, "output_tokens": 42},
}  # fmt: skip


def wire(line_end: bytes = b"\n") -> bytes:
    data = b"".join(encode(event) for event in message_events(MESSAGE))
    return data.replace(b"\n", line_end)


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"])
def test_the_message_comes_back_whole_at_every_split(line_end: bytes):
    data = wire(line_end)
    for cut in range(0, len(data), 7):  # a chunk boundary at every 7th byte, inside UTF-8 sequences too
        message = read_streamed_reply([data[:cut], data[cut:]])
        assert message["content"] == MESSAGE["content"]
        assert message["stop_reason"] == "tool_use" and message["usage"]["output_tokens"] == 42


def test_one_byte_at_a_time_with_crlf():
    data = wire(b"\r\n")
    texts: list[str] = []
    message = read_streamed_reply([data[i : i + 1] for i in range(len(data))], texts.append)
    assert message["content"] == MESSAGE["content"]
    assert "".join(texts) == MESSAGE["content"][1]["text"]


def test_comments_other_fields_and_multiline_data():
    stream = b': keep-alive\n\nevent: x\nid: 7\nretry: 10\ndata: {"a":\ndata: 1}\n\ndata:{"b":2}\n\n'
    assert [json.loads(d) for d in server_sent_events([stream])] == [{"a": 1}, {"b": 2}]


def test_an_event_without_its_blank_line_is_not_dispatched():
    assert list(server_sent_events([b'data: {"a":1}\n\ndata: {"b":'])) == [b'{"a":1}']


def test_a_stream_cut_before_message_stop_is_an_error():
    data = wire()
    with pytest.raises(StreamError) as caught:
        read_streamed_reply([data[: data.index(b"event: message_stop")]])
    assert caught.value.error_type == "incomplete_stream" and caught.value.transient


def test_an_error_event_mid_stream():
    data = wire().split(b"event: content_block_start")[0]
    data += b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    with pytest.raises(StreamError, match="overloaded_error: Overloaded"):
        read_streamed_reply([data])


def test_request_body_is_the_json_of_the_request_and_reuses_unchanged_messages():
    encoder = RequestEncoder()
    history = [{"role": "user", "content": "fix ü"}, {"role": "assistant", "content": MESSAGE["content"]}]
    params = {"model": "m", "max_tokens": 5, "messages": history}
    first = encoder.encode(params, {"stream": True})
    assert json.loads(first) == {**params, "stream": True}
    compact = json.dumps({**params, "stream": True}, ensure_ascii=False, separators=(",", ":"))
    assert len(first) == len(compact.encode())  # compact, UTF-8, no escapes
    history.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]})
    history[0] = {"role": "user", "content": "replaced"}  # a replaced message is encoded anew
    second = json.loads(encoder.encode(params))
    assert second["messages"] == history and "stream" not in second


def test_a_lone_surrogate_goes_as_an_escape_not_a_crash():
    body = RequestEncoder().encode({"model": "m", "messages": [{"role": "user", "content": "a\ud800b"}]})
    assert b"\\ud800" in body and json.loads(body)["messages"][0]["content"] == "a\ud800b"


def test_an_event_that_is_not_json_is_a_clear_error_not_a_crash():
    data = wire().replace(b'data: {"type": "ping"}', b"data: {not json")
    assert b"{not json" in data
    with pytest.raises(StreamError, match="not a JSON object") as caught:
        read_streamed_reply([data])
    assert not caught.value.transient


def test_long_text_and_tool_input_in_many_pieces():
    big = {"type": "tool_use", "id": "toolu_2", "name": "str_replace_based_edit_tool",
           "input": {"command": "create", "path": "/repo/big.txt", "file_text": "line ü\n" * 20000}}  # fmt: skip
    message = dict(MESSAGE, content=[{"type": "text", "text": "word " * 5000}, big])
    data = b"".join(encode(event) for event in message_events(message))
    assert read_streamed_reply([data])["content"] == message["content"]


def test_empty_input_pieces_keep_the_input_given_at_block_start():
    events = [
        {"type": "message_start", "message": {"id": "m", "role": "assistant", "content": [], "usage": {}}},
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "tool_use", "id": "t1", "name": "x", "input": {"command": "view", "path": "/r"}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": ""}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 3}},
        {"type": "message_stop"},
    ]  # fmt: skip
    data = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()
    assert read_streamed_reply([data])["content"][0]["input"] == {"command": "view", "path": "/r"}


def test_empty_events_and_bare_data_fields():
    assert list(server_sent_events([b'data\ndata: {"a":\ndata\ndata: 1}\n\n'])) == [b'\n{"a":\n\n1}']
    data = wire().replace(b"event: content_block_stop", b"event: ping\ndata:\n\nevent: content_block_stop", 1)
    assert read_streamed_reply([data])["content"] == MESSAGE["content"]


def test_extra_body_fields_are_sent_as_the_sdk_sends_them():
    import datetime

    params = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    extra = {"metadata": {"since": datetime.date(2025, 6, 1)}, "tags": {"a"}}
    assert json.loads(RequestEncoder().encode(params, extra))["metadata"] == {"since": "2025-06-01"}
    with pytest.raises(ValueError, match="`messages` is the conversation"):
        RequestEncoder().encode(params, {"messages": []})
    with pytest.raises(TypeError, match="holds a object"):
        RequestEncoder().encode(params, {"metadata": object()})


def test_tool_input_given_whole_at_block_start_is_kept():
    events = [
        {"type": "message_start", "message": {"id": "m", "role": "assistant", "content": [], "usage": {}}},
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "tool_use", "id": "t1", "name": "x", "input": {"command": "view", "path": "/r"}}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 3}},
        {"type": "message_stop"},
    ]  # fmt: skip
    wire = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events).encode()
    message = read_streamed_reply([wire])
    assert message["content"][0]["input"] == {"command": "view", "path": "/r"}
    assert message["stop_reason"] == "tool_use" and message["usage"]["output_tokens"] == 3
