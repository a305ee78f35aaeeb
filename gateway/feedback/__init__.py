"""Feedback from detection teams on ``bd.terugkoppeling`` (spec/selection.md): read, decide, audit."""
