"""Data package: the hand-written lexicons (TSV), read through importlib.resources."""
