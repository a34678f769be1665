"""Product classifications: HS chapters and sections, sector mappings (HS -> sector) with
sector RCA, and product labels at the configured HS level.

Must not read Delta tables or start Spark: mappings and labels are plain data and frames.
"""
