"""Qualitative evidence synthesis: theme matrices, barriers and facilitators, CERQual, CASP."""
