"""Shared fixtures for the extraction tests: where the public test data lives.

The data sits beside the repository at ../shared/data (see its README.md);
tests that need it skip, with the reason, when it is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """/work/shared/data, or skip when this checkout has no shared data beside it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ocr_dir(shared_data: Path) -> Path:
    return shared_data / "ocr"


def build_text_pdf(lines: list[str], *, pages: int = 1) -> bytes:
    """A small valid PDF with a real text layer, written by hand (Helvetica, one line each)."""
    escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in escaped) + " ET"
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(pages))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i in range(pages):
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>"
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return out


def encrypt_pdf(data: bytes, user_password: str, owner_password: str = "owner") -> bytes:
    from io import BytesIO

    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def text_pdf() -> bytes:
    return build_text_pdf(
        ["Discharge summary", "Patient: Doe, Jane   MRN: 4471234", "Date: 2023-02-14",
         "Amoxicillin 500 mg three times daily for pneumonia."]
    )


@pytest.fixture
def make_text_pdf() -> Callable[..., bytes]:
    return build_text_pdf


@pytest.fixture
def encrypt() -> Callable[..., bytes]:
    return encrypt_pdf
