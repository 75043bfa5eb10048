"""Packaging and deployment to AWS: bundles, the CloudFormation stack, its outputs.

``package`` builds the artifacts (reproducible zips), ``plan_deploy`` decides what
will be uploaded and whether the stack is created or updated, ``execute_deploy``
does it. Only ``clients`` imports boto3; everything else receives clients.
"""
