"""Rules about sqs."""
