"""Optional: a local language model rephrases an answer that is already verified.

Off by default. Configured explicitly (the `assistant.llm_url` setting or
`--llm-url`) with an OpenAI-compatible chat endpoint such as a llama.cpp
server or Ollama. Loopback hosts only, unless `allow_remote` is given: patient
content must not leave the machine by accident. The model is sent the
question and the verified passages only (nothing else from the vault), and
must quote passages verbatim in double quotes. Its reply is checked again:
a sentence survives only if every quote in it is part of a verified passage
and its other words come from the question, the passages or plain
connecting words; if nothing survives, the extractive answer stands.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import urllib.request
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from archive.assistant.answer import Answer, Statement
from archive.assistant.citations import Citation, normalise
from archive.errors import UserError

if TYPE_CHECKING:
    from archive.session import Session

TIMEOUT = 60.0
SYSTEM_PROMPT = (
    "You rephrase answers for a physician. Use ONLY the numbered passages given. Every statement must quote "
    'the passage it rests on, verbatim, in double quotes, followed by its number in brackets, e.g. '
    'She was given "Amoxicillin 250 MG Oral Capsule" [1]. Do not add facts, numbers, dates or names that are '
    "not in the passages. If the passages do not answer the question, say so."
)
# Words a rephrasing may use without their being in a passage or the question.
CONNECTIVES = frozenset(
    """
    a an the and or but so also then this that these those there here it its is are was were be been being has have
    had do does did of in on at to for with by from as into about per than not no nor yes patient patients record
    records note notes she he her his they their them who which what when where on during after before since until
    received receive given got get prescribed prescription took take taking started start stopped stop underwent
    had diagnosed diagnosis documented documents document shows show showed mentions mention mentioned states state
    stated according listed lists list found find noted notes reports reported report includes included including
    include were time times date dates day days visit visits encounter encounters medication medications procedure
    procedures condition conditions referral referrals complication complications case cases similar answer
    passage passages question based following follows summary summarise summarize timeline once twice both each
    other another one two three first second last earlier later same only all any some none nothing
    """.split()
)
_QUOTE = re.compile(r"[\"“”]([^\"“”]{3,}?)[\"“”]")
_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class LlmConfig:
    url: str  # base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1
    model: str = "local"
    allow_remote: bool = False
    timeout: float = TIMEOUT


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine: localhost, 127.0.0.0/8, ::1 (names are resolved, all must be loopback)."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host.lower() == "localhost":
        return True
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(i[4][0]).split("%")[0]).is_loopback for i in infos)


def check_config(config: LlmConfig) -> LlmConfig:
    """Refuse anything but http(s) to a loopback host, unless remote hosts were explicitly allowed."""
    parsed = urlparse(config.url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UserError(f"'{config.url}' is not an http(s) URL of a chat endpoint.",
                        "For example --llm-url http://127.0.0.1:8080/v1 (llama.cpp server) or "
                        "http://127.0.0.1:11434/v1 (Ollama).")
    if not config.allow_remote and not is_loopback(parsed.hostname):
        raise UserError(
            f"Refusing to send patient passages to {parsed.hostname}: it is not this machine.",
            "Run the model on this machine (127.0.0.1), or pass --allow-remote if the host is yours and trusted.",
        )
    return config


def config_from(session: Session, url: str | None, model: str | None, allow_remote: bool) -> LlmConfig | None:
    """The generative mode's configuration: --llm-url, else the vault setting; None when off."""
    from archive.settings import list_settings

    settings = list_settings(session) if not url or not model else {}
    if not url:
        url = str(settings["assistant.llm_url"] or "") or None
    if not url:
        return None
    if not model:
        model = str(settings["assistant.llm_model"] or "") or None
    return check_config(LlmConfig(url=url.rstrip("/"), model=model or "local", allow_remote=allow_remote))


def _endpoint(url: str) -> str:
    return url if url.endswith("/chat/completions") else url + "/chat/completions"


def complete(config: LlmConfig, question: str, citations: list[Citation]) -> str:
    """Send the question and the numbered verified passages; return the model's text."""
    check_config(config)
    numbered = "\n".join(f"[{i}] ({c.date or 'undated'}) {normalise(c.passage)}" for i, c in enumerate(citations, 1))
    body = {
        "model": config.model,
        "temperature": 0,
        "stream": False,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Question: {question}\n\nPassages:\n{numbered}"},
        ],
    }
    request = urllib.request.Request(
        _endpoint(config.url), data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    # No proxies: a proxy from the environment would carry the passages off the machine.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=config.timeout) as response:  # noqa: S310 - http(s) checked above
        reply: dict[str, Any] = json.loads(response.read().decode("utf-8"))
    return str(reply["choices"][0]["message"]["content"] or "")


def _sentences(text: str) -> list[str]:
    parts: list[str] = []
    for line in text.splitlines():
        parts += [p.strip() for p in re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", line) if p.strip()]
    return parts


def ground(reply: str, question: str, citations: list[Citation]) -> list[tuple[str, list[Citation]]]:
    """The sentences of the model's reply that the verified passages support, each with its citations."""
    passages = [normalise(c.passage).lower() for c in citations]
    vocab = set(CONNECTIVES) | {w.lower() for w in _WORD.findall(question)}
    for p in passages:
        vocab |= {w.lower() for w in _WORD.findall(p)}
    kept: list[tuple[str, list[Citation]]] = []
    for sentence in _sentences(reply):
        quotes = _QUOTE.findall(sentence)
        if not quotes:
            continue
        used: list[Citation] = []
        for quote in quotes:
            q = normalise(quote).lower()
            owner = next((c for c, p in zip(citations, passages, strict=True) if q in p), None)
            if owner is None:
                used = []
                break
            used.append(owner)
        if not used:
            continue
        outside = _QUOTE.sub(" ", re.sub(r"\[\d+\]", " ", sentence))
        if any(w.lower() not in vocab for w in _WORD.findall(outside)):
            continue  # words the passages do not support: a hallucinated statement
        kept.append((re.sub(r"\s*\[\d+\]", "", sentence).strip(), list(dict.fromkeys(used))))
    return kept


def rephrase_answer(config: LlmConfig, question: str, answer: Answer, statements: list[Statement]) -> Answer:
    """The model's rephrasing, checked; the extractive answer when the model fails or nothing survives."""
    try:
        reply = complete(config, question, answer.citations)
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return answer  # the model is down or answered nonsense: the verified extractive answer stands
    grounded = ground(reply, question, answer.citations)
    if not grounded:
        return answer
    citations: list[Citation] = []
    lines = []
    for sentence, used in grounded:
        marks = ""
        for c in used:
            if c not in citations:
                citations.append(c)
            marks += f"[{citations.index(c) + 1}]"
        lines.append(f"{sentence.rstrip('.')} {marks}")
    return replace(answer, answer="\n".join(lines), citations=citations, mode="generative")
