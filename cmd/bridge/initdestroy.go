package main

import (
	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/target"
)

func newInitCmd(cl *bridgeCLI) *cobra.Command {
	return &cobra.Command{
		Use:   "init KIND",
		Short: "Create the account-level resources a deploy target needs (localhost, sagemaker)",
		Long: `Create what a deploy target needs before bridge run: for localhost, Bridge's
state directory; for sagemaker, the S3 bucket bridge-models-<account>-<region>
and the IAM role bridge-sagemaker-execution. Idempotent: running it twice
succeeds and changes nothing.`,
		Example: `  bridge init localhost
  AWS_PROFILE=bridge-admin AWS_REGION=eu-west-1 bridge init sagemaker`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return target.InitOrDestroy(cmd.Context(), cmd.OutOrStdout(), target.Deps{Config: cl.cfg}, args[0], true)
		},
	}
}

func newDestroyCmd(cl *bridgeCLI) *cobra.Command {
	return &cobra.Command{
		Use:   "destroy KIND",
		Short: "Remove every resource Bridge created on a deploy target (the registry is never touched)",
		Long: `Remove everything Bridge created on a deploy target: for localhost, stop every
model server and clear Bridge's local model cache; for sagemaker, every brdg-
endpoint, endpoint config and model, the artifact bucket and the execution role.
The registry is never touched. Idempotent.`,
		Example: `  bridge destroy localhost
  bridge destroy sagemaker`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return target.InitOrDestroy(cmd.Context(), cmd.OutOrStdout(), target.Deps{Config: cl.cfg}, args[0], false)
		},
	}
}
