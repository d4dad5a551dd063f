//! Input rules shared by every command (names, slugs, lengths). Filled in by the domain work.
