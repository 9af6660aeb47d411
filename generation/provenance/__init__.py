"""Provenance marks on released outputs."""
