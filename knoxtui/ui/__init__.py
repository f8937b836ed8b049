"""The Textual console (DESIGN.md §1): screens, widgets, styles, themes and the command palette."""
