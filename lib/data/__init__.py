"""Package data: our own HS chapter table and BACI country list (read with importlib.resources).

Both tables were written for this project from public knowledge of the WCO Harmonized System
(HS 1992 chapters, sections and last headings) and of ISO 3166-1 (names, alpha-2/alpha-3 and
numeric codes, with CEPII BACI's own numeric codes for France 251, USA 842, India 699,
Switzerland 757, Norway 579 and "Other Asia, nes" 490/S19). They are read through
``importlib.resources`` so that they also work when ``lib`` is imported from a zip (--py-files).

Holds data files only, no code that computes with them.
"""
