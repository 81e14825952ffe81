"""Pure party-branch rules: standard library only, time always passed in."""
