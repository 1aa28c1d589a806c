"""The optional generative mode against a fake OpenAI-compatible server on 127.0.0.1 (http.server in a thread)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from archive.assistant.answer import Answer, Statement
from archive.assistant.citations import Citation
from archive.assistant.generative import LlmConfig, check_config, complete, ground, is_loopback, rephrase_answer
from archive.errors import UserError

AMOX = Citation("r1", "2021-03-05", "Medication: Amoxicillin 500 MG Oral Capsule; 2021-03-05; status stopped", "M1")
CEF = Citation("r1", "2019-03-11", "Medication: Cefuroxime 250 MG Oral Tablet; 2019-03-11; status stopped", "M1")
EXTRACTIVE = Answer("2 antibiotics:\n- 2021-03-05: Amoxicillin [1]\n- 2019-03-11: Cefuroxime [2]", [AMOX, CEF])
QUESTION = "What antibiotics did Jane Roe get?"


@contextmanager
def fake_model(reply: Callable[[dict[str, Any]], str]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback server speaking /v1/chat/completions; yields its URL and the requests it received."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "body": body})
            data = json.dumps({"choices": [{"message": {"role": "assistant", "content": reply(body)}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", received
    finally:
        server.shutdown()
        server.server_close()


def test_faithful_model_rephrases_with_verbatim_quotes() -> None:
    def reply(body: dict[str, Any]) -> str:
        return ('She was given "Amoxicillin 500 MG Oral Capsule" [1] on 2021-03-05. '
                'Earlier she received "Cefuroxime 250 MG Oral Tablet" [2].')

    with fake_model(reply) as (url, received):
        answer = rephrase_answer(LlmConfig(url), QUESTION, EXTRACTIVE, [])
    assert answer.mode == "generative"
    assert answer.citations == [AMOX, CEF]
    assert "Amoxicillin 500 MG Oral Capsule" in answer.answer and "[2]" in answer.answer
    # only the question and the verified passages were sent
    sent = received[0]
    assert sent["path"] == "/v1/chat/completions"
    user = sent["body"]["messages"][-1]["content"]
    assert QUESTION in user and AMOX.passage in user and CEF.passage in user
    assert "M1" not in user and "r1" not in user


def test_hallucinated_statements_are_dropped() -> None:
    def reply(body: dict[str, Any]) -> str:
        return (
            'She was given "Amoxicillin 500 MG Oral Capsule" [1].\n'
            'She was also given "Vancomycin 1 G Injection" [2].\n'  # a quote no passage contains
            'She received "Cefuroxime 250 MG Oral Tablet" for pneumonia caused by MRSA [2].\n'  # words not supported
            "Her kidney function was normal."  # no quote at all
        )

    with fake_model(reply) as (url, _):
        answer = rephrase_answer(LlmConfig(url), QUESTION, EXTRACTIVE, [])
    assert answer.mode == "generative"
    assert answer.answer.splitlines() == ['She was given "Amoxicillin 500 MG Oral Capsule" [1]']
    assert answer.citations == [AMOX]
    for word in ("Vancomycin", "MRSA", "kidney", "pneumonia"):
        assert word not in answer.answer


def test_a_model_that_never_quotes_falls_back_to_the_extractive_answer() -> None:
    with fake_model(lambda body: "She had two antibiotics, amoxicillin and cefuroxime.") as (url, _):
        answer = rephrase_answer(LlmConfig(url), QUESTION, EXTRACTIVE, [Statement("x", [AMOX])])
    assert answer is EXTRACTIVE


def test_a_model_that_is_down_falls_back() -> None:
    with fake_model(lambda body: "") as (url, _):
        dead = url.replace("/v1", "/nowhere")  # same server, 200 with an empty reply
    answer = rephrase_answer(LlmConfig(dead, timeout=2), QUESTION, EXTRACTIVE, [])
    assert answer is EXTRACTIVE


def test_remote_hosts_are_refused_unless_allowed() -> None:
    with pytest.raises(UserError, match="not this machine"):
        check_config(LlmConfig("http://10.1.2.3:8080/v1"))
    with pytest.raises(UserError, match="not this machine"):
        check_config(LlmConfig("https://api.example.com/v1"))
    with pytest.raises(UserError, match="http"):
        check_config(LlmConfig("file:///etc/passwd"))
    assert check_config(LlmConfig("http://10.1.2.3:8080/v1", allow_remote=True)).allow_remote
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.5.0.1")
    assert not is_loopback("8.8.8.8")


def test_proxies_in_the_environment_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://10.255.255.1:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://10.255.255.1:3128")
    with fake_model(lambda body: 'It was "Amoxicillin 500 MG Oral Capsule" [1].') as (url, received):
        text = complete(LlmConfig(url, timeout=5), QUESTION, [AMOX])
    assert "Amoxicillin" in text and len(received) == 1


def test_ground_requires_every_quote_to_be_in_a_passage() -> None:
    kept = ground('"Amoxicillin 500 MG" and "Vancomycin" [1]', QUESTION, [AMOX])
    assert kept == []
    kept = ground('It was "Amoxicillin 500 MG  Oral Capsule" [1].', QUESTION, [AMOX])  # whitespace differs only
    assert kept and kept[0][1] == [AMOX]
