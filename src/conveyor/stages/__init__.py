"""One module per kind of pipeline stage, and what the stages share; conveyor.pipeline calls them
in the order the pipeline runs. Each makes its constructs in the Pipeline's own scope.

- resources: the tags, storage, other regions' support stacks and artifact stores, who gets told
- source: the Source stage (GitHub, CodeCommit, S3) and the pull-request pipeline's source
- self_update: the UpdatePipeline stage
- environment_stacks: each environment's stack and what the pipeline knows of it
- codedeploy_files: taskdef.json and appspec.yaml of CodeDeploy blue/green, in the build output
- build: the Build stage with its tests, scans and scan gate (and the Synth job)
- environment: each environment's Approve-/Release-/Deploy- stages
- release: the release's mark (MarkDeployed), in an environment's stages
- validation: the Validate action after an environment's deploy
- conditions: the stages' V2 conditions and the pipeline role's alarm reads
- findings: conveyor check suppressions and cdk-nag acknowledgements, with reasons
- watch: the deployment history, notices and alarms of the pipeline
- pull_request: the second pipeline that builds, tests and scans pull requests
"""
