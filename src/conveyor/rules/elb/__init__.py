"""Rules about Elastic Load Balancing listeners."""
