"""Write ``data/lexicons/jieba_words.txt``: the words of jieba's ``dict.txt`` with frequency >= 20.

    python scripts/build_jieba_words.py

Both segmentation engines (the reference jieba and rjieba) are built from
this one file, so they read exactly the same dictionary, and reading 80 k
lines instead of filtering jieba's 349 k keeps the cold start short. The
words and frequencies are jieba's (MIT licence), unchanged; only the
part-of-speech column is dropped. Rebuild it when the jieba version changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "data" / "lexicons" / "jieba_words.txt"


def main() -> int:
    import jieba

    from cs_sentiment.tokenize import JIEBA_MIN_FREQ

    kept = []
    with jieba.Tokenizer().get_dict_file() as f:
        for line in f:
            parts = line.decode("utf-8").split()
            if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) >= JIEBA_MIN_FREQ:
                kept.append(f"{parts[0]} {parts[1]}\n")
    OUT.write_text("".join(kept), encoding="utf-8", newline="\n")
    print(f"wrote {len(kept):,} words (jieba {jieba.__version__}, frequency >= {JIEBA_MIN_FREQ}) to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
