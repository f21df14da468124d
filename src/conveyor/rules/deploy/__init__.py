"""Rules about deployment targets: ECS, CodeDeploy, Lambda."""
