"""Issue 9's regression suite: one test per finding, each written as the attack."""
