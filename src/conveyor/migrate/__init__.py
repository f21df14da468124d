"""`conveyor migrate`: read another tool's description of a delivery pipeline and write the
equivalent conveyor.yaml, naming each setting it could not carry over.

One concern per module: `manifest` reads a file safely (the spec loader's YAML reading) and
remembers each key's line; `workspace` finds a Copilot workspace's manifests; `copilot` maps
them onto conveyor's spec; `render` writes the result as commented YAML that validates.
"""
