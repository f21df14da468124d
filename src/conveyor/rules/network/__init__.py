"""Rules about where services sit on the network: subnets, public addresses, security groups."""
