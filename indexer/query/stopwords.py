"""Stop words: words that carry no topic, in one list with one named part.

`FUNCTION_WORDS` (articles, prepositions, forms of "to be", relative pronouns)
say nothing in any text: they are dropped from a code's name and from a note's
clause before the two are matched (code_match, code_suggest).
`STOPWORDS` (all of them but "due") adds what a typed search query carries around its topic (pronouns,
question words, auxiliaries, quantifiers, "no"/"not"). Those stay in code
matching, where they are part of what a code means ("type i", "follow up",
"other", "after"); negation is handled there by the ConText rules instead.
"""

from __future__ import annotations

_CORE = frozenset(
    "a an the of and or in on at to for with by from as is are was were be been this that these those "
    "his her their its into than then there which who whom whose".split()
)

# "due" ("due to") only links two conditions in a code's name; a search query keeps it ("due date").
FUNCTION_WORDS = _CORE | {"due"}

# Words dropped from a search query's keyword side (hybrid) and from the words a snippet marks.
STOPWORDS = _CORE | frozenset(
    """being hers what when where how he she it they them him we you i me my our your not no nor but if so up out
    off over under again once here both each few more most other some such only own same too very can will just
    should now has have had having do does did doing am about against between through during before after above
    below down all any until while because per via""".split()
)
