"""Pure domain rules: postcodes, references, window tokens, triage and windows."""
