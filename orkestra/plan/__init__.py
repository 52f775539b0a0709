"""What a pattern will do to a cluster: the objects it can create and the permissions the
runtime needs for them. Later versions add ``ork plan`` (version-to-version diff and risk
findings) here."""
