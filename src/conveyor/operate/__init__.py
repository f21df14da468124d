"""Operating a deployed pipeline through the AWS API: its status, and rolling a stage back.

Works on any boto3 client (botocore Stubber in tests). Never imports aws_cdk, and botocore
only inside the functions that call AWS, so `conveyor --help` does not load it. The names it
looks up are the ones the constructs give (`names.py`, proven equal by
tests/operate/test_names.py).
"""
