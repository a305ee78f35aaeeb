"""Selection by hand (spec/selection.md): what a signal tells a detection team about earlier signals."""
