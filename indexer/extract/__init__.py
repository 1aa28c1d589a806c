"""Turn a file's bytes into searchable text and metadata, one module per format.

`dispatch.extract(data, filename)` picks the format by content (then by
extension) and is the only entry point; `types` holds what it returns
(`Extraction`, `PatientInfo`, `Fact`, `OcrLine`) and `errors` the one error
(`ExtractionError`) every bad input ends in, so the pipeline can quarantine it.
Format modules: text, pdf (+ pdf_images, jbig2), image (OCR), docx, hl7v2, fhir;
dates and render are shared helpers.

This package works on bytes in memory only: it never writes plaintext to
disk (no temp files, no caches of content), and it imports the heavy
libraries (pypdf, Pillow, the OCR engine, python-docx, hl7) inside the
functions that need them, so importing it is cheap.
"""
