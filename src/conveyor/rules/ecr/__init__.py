"""Rules about ECR repositories."""
