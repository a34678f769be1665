"""Product classifications: HS chapters and sections, sector mappings (HS -> sector) with
sector RCA, and product labels at the configured HS level."""
