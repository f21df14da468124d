"""`conveyor history`: read the deployment history table and compute the four DORA metrics.

records.py (items -> Deployment), reader.py (DynamoDB Query with paging), dora.py (pure metric
functions). boto3 is imported by the reader's caller only when the command runs.
"""
