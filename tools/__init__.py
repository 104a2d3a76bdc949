"""Development tools: speed scripts and mutation testing; not part of the installed package."""
