"""`conveyor init`: read a repository, propose a commented conveyor.yaml that validates."""
