"""The exceptions that mean "this PDF is malformed", for the PDF reader (pdf.py) and its image decoder."""

from __future__ import annotations


def pdf_errors() -> tuple[type[BaseException], ...]:
    """What pypdf and the decoders under it raise on malformed input.

    Anything else still ends as an ExtractionError in `extract`, for the whole file.
    """
    from pypdf.errors import PyPdfError

    return (
        PyPdfError,
        ArithmeticError,
        AssertionError,
        AttributeError,
        LookupError,
        NotImplementedError,
        OSError,
        RecursionError,
        TypeError,
        ValueError,
    )
