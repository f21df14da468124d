"""Rules about codebuild."""
