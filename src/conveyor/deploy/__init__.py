"""`conveyor deploy | diff | destroy`: run the AWS CDK CLI on a synthesized cloud assembly."""
