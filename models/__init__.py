"""Data package: the shipped default model (JSON + npz, no pickle) and its reports."""
