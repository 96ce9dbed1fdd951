"""PII redaction: patterns, placeholders and checksum-validated replacement."""
