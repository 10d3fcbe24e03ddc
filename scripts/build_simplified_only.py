"""Rebuild data/lexicons/simplified_only.tsv from OpenCC.

The file lists the CJK characters that exist only in simplified script (OpenCC
``s2t`` changes them, ``t2s`` leaves them alone). Script detection counts them
instead of running a second OpenCC converter at run time (which costs ~27 MB).

Usage: python scripts/build_simplified_only.py
"""
from __future__ import annotations

from pathlib import Path

import opencc

OUT = Path(__file__).resolve().parents[1] / "data" / "lexicons" / "simplified_only.tsv"
RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))  # CJK ext. A, unified, compatibility


def main() -> None:
    s2t, t2s = opencc.OpenCC("s2t"), opencc.OpenCC("t2s")
    rows = []
    for low, high in RANGES:
        for code in range(low, high + 1):
            ch = chr(code)
            traditional = s2t.convert(ch)
            if traditional != ch and t2s.convert(ch) == ch:
                rows.append((ch, traditional))
    rows.sort()
    lines = ["char\ttraditional\tsource"] + [f"{c}\t{t}\topencc-s2t" for c, t in rows]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(rows)} characters")


if __name__ == "__main__":
    main()
