"""Documentation build helpers: the includes the pages use, the mkdocs hook."""
