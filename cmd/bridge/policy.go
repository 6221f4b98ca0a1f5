package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/iampolicy"
)

var policyFlags struct {
	account string
	region  string
}

var policyCmd = &cobra.Command{
	Use:   "policy init|run|destroy|pipeline",
	Short: "Print the least-privilege IAM policy a command needs on the sagemaker target",
	Long: `Print the IAM policy document that a restricted AWS user needs for
bridge init sagemaker and bridge destroy sagemaker (one shared policy), or for
bridge run with BRIDGE_DEPLOY_KIND=sagemaker, or for bridge pipeline run
--on sagemaker (pipeline: it also names AWS_ROLE, PIPELINE_NAME and
BASE_JOB_PREFIX), with the account id and region filled in. Paste it into the IAM console's JSON editor, or pipe it to
aws iam create-policy --policy-document file:///dev/stdin.

Without --account the account id is asked from AWS (sts get-caller-identity,
which needs no permission) with the usual credentials; without --region the
region comes from AWS_REGION, AWS_DEFAULT_REGION or the AWS profile. With both
flags no AWS call is made.`,
	Example: `  bridge policy init --account 123456789012 --region eu-west-1
  bridge policy run > bridge-run-policy.json
  aws iam create-policy --policy-name BridgeRun --policy-document "$(bridge policy run)"`,
	Args:      cobra.ExactArgs(1),
	ValidArgs: []string{iampolicy.Init, iampolicy.Run, iampolicy.Destroy, iampolicy.Pipeline},
	RunE: func(cmd *cobra.Command, args []string) error {
		if _, err := iampolicy.Template(args[0]); err != nil {
			return err
		}
		account, region := policyFlags.account, policyFlags.region
		if account == "" || region == "" {
			opts, err := awsauth.FromConfig(cfg)
			if err != nil {
				return err
			}
			if region != "" {
				opts.Region = region
			}
			if account == "" {
				awsCfg, err := awsauth.Load(cmd.Context(), opts)
				if err != nil {
					return fmt.Errorf("%w (or pass --account and --region)", err)
				}
				id, err := awsauth.CallerIdentity(cmd.Context(), awsCfg)
				if err != nil {
					return fmt.Errorf("%w (or pass --account)", err)
				}
				account, region = id.Account, awsCfg.Region
			} else if region = opts.Region; region == "" {
				return fmt.Errorf("no AWS region: pass --region or set AWS_REGION")
			}
		}
		doc, err := iampolicy.Render(args[0], account, region)
		if err == nil && args[0] == iampolicy.Pipeline {
			doc, err = fillPipelinePolicy(doc)
		}
		if err != nil {
			return err
		}
		if doc, err = withPackageGroupStatements(doc, args[0], account, region); err != nil {
			return err
		}
		_, err = fmt.Fprint(cmd.OutOrStdout(), doc)
		return err
	},
}

func init() {
	policyCmd.Flags().StringVar(&policyFlags.account, "account", "", "AWS account id (default: from sts get-caller-identity)")
	policyCmd.Flags().StringVar(&policyFlags.region, "region", "", "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's region)")
	rootCmd.AddCommand(policyCmd)
}
