"""Reads the golden vectors out of firmware/WIRE_FORMAT.md (the document is the source)."""
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "firmware" / "WIRE_FORMAT.md"


def golden_vectors() -> list[dict]:
    text = DOC.read_text()
    block = text.split("```golden", 1)[1].split("```", 1)[0]
    vectors, cur = [], None
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("vector "):
            cur = {"name": line.split()[1]}
            vectors.append(cur)
        elif line.startswith("bytes "):
            cur["bytes"] = bytes.fromhex(line[6:].replace(" ", ""))
        elif line.startswith("fields "):
            cur["fields"] = dict(kv.split("=", 1) for kv in line[7:].split())
    return vectors
