"""The assistant: a conversation over the records, every statement quoted and checked.

Default mode needs no language model and no network: intents.py recognises
the question, handlers.py answers it from the index and the charts with
passages quoted verbatim (cases.py: the asked fact of a named patient, and
past cases described in words; reading.py: answer types, the sentence that
answers, the fact; mention.py: negated or uncertain mentions are never
evidence), citations.py checks each passage against the
record's decrypted text, and conversation.py applies policy (patient files
only for registered, active physicians) and audits the question. An optional
local model (generative.py) may rephrase verified passages; its reply is
checked the same way.
"""

from archive.assistant.answer import NOTHING_FOUND, Answer, Statement
from archive.assistant.citations import Citation
from archive.assistant.conversation import Conversation, ask

__all__ = ["NOTHING_FOUND", "Answer", "Citation", "Conversation", "Statement", "ask"]
