package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/iampolicy"
)

func newPolicyCmd(cl *bridgeCLI) *cobra.Command {
	var policyFlags struct {
		account string
		region  string
	}
	policyCmd := &cobra.Command{
		Use:   "policy init|run|destroy|pipeline",
		Short: "Print the least-privilege IAM policy a command needs on the sagemaker target",
		Long: `Print the IAM policy document that a restricted AWS user needs for one
Bridge command on the sagemaker target, with the account id and region filled
in. Paste it into the IAM console's JSON editor, or pipe it to
aws iam create-policy --policy-document file:///dev/stdin.

Without --account the account id is asked from AWS (sts get-caller-identity,
which needs no permission) with the usual credentials; without --region the
region comes from AWS_REGION, AWS_DEFAULT_REGION or the AWS profile. With both
flags no AWS call is made.`,
		Example: `  bridge policy init --account 123456789012 --region eu-west-1
  bridge policy run > bridge-run-policy.json
  aws iam create-policy --policy-name BridgeRun --policy-document "$(bridge policy run)"`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("name the command whose policy to print: %s, %s, %s or %s", iampolicy.Init, iampolicy.Run, iampolicy.Destroy, iampolicy.Pipeline)
			}
			return fmt.Errorf("unknown command %q: want %s, %s, %s or %s", args[0], iampolicy.Init, iampolicy.Run, iampolicy.Destroy, iampolicy.Pipeline)
		},
	}
	policyCmd.PersistentFlags().StringVar(&policyFlags.account, "account", "", "AWS account id (default: from sts get-caller-identity)")
	policyCmd.PersistentFlags().StringVar(&policyFlags.region, "region", "", "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's region)")
	for _, p := range policySubcommands {
		name := p.name
		policyCmd.AddCommand(&cobra.Command{
			Use:   name,
			Short: p.short,
			Long: p.long + `

Without --account the account id is asked from AWS (sts get-caller-identity,
which needs no permission); without --region the region comes from
AWS_REGION, AWS_DEFAULT_REGION or the AWS profile. With both flags no AWS call
is made.`,
			Example: fmt.Sprintf("  bridge policy %s --account 123456789012 --region eu-west-1\n  bridge policy %s > bridge-%s-policy.json", name, name, name),
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				doc, err := iampolicy.ForConfig(cmd.Context(), cl.cfg, name, policyFlags.account, policyFlags.region)
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(cmd.OutOrStdout(), doc)
				return err
			},
		})
	}
	return policyCmd
}

// policySubcommands describe each policy in its own --help.
var policySubcommands = []struct{ name, short, long string }{
	{iampolicy.Init, "Print the IAM policy bridge init sagemaker needs",
		`Print the IAM policy a restricted AWS user needs for bridge init sagemaker:
create the account-level resources Bridge uses (the SageMaker execution role
with its policies, and the artifact bucket). It is the same policy as
bridge destroy sagemaker's, which removes them.`},
	{iampolicy.Run, "Print the IAM policy bridge run needs on SageMaker",
		`Print the IAM policy a restricted AWS user needs for bridge run (and
bridge plan and bridge status) with BRIDGE_DEPLOY_KIND=sagemaker: list,
create, describe, update, invoke and delete SageMaker models, endpoint
configs and endpoints, list and write model artifacts in Bridge's bucket
(bridge-models-<account>-<region>), and pass Bridge's execution role
(bridge-sagemaker-execution) to SageMaker.`},
	{iampolicy.Destroy, "Print the IAM policy bridge destroy sagemaker needs",
		`Print the IAM policy a restricted AWS user needs for bridge destroy
sagemaker: remove every SageMaker resource Bridge created, its bucket and its
execution role. It is the same policy as bridge init sagemaker's.`},
	{iampolicy.Pipeline, "Print the IAM policy bridge pipeline run --on sagemaker needs",
		`Print the IAM policy a restricted AWS user needs for bridge pipeline run
--on sagemaker: create, update, start, follow and stop the pipeline
PIPELINE_NAME and its executions, pass AWS_ROLE to SageMaker, and write the
pipeline's code under BASE_JOB_PREFIX in the default bucket
sagemaker-<region>-<account> (created when missing).`},
}
