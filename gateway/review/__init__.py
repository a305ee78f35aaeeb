"""Quarantine review (spec/review.md): reviewers' signed verdicts, four eyes, release and discard."""
