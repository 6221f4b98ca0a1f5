package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/cliargs"
	"github.com/bridgeops/bridge/internal/model"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
)

func (m *modelsCLI) approveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "approve GROUP VERSION",
		Short: "Approve a SageMaker model package version (BRIDGE_REGISTRY=sagemaker)",
		Long: `Set a model package version's approval status to Approved. With the default
slot rules its endpoint brdg-<group>-production then serves it, from the next
reconcile pass of bridge run on.`,
		Example: `  BRIDGE_REGISTRY=sagemaker bridge models approve stsPackageGroup 3 --description "AUC 0.91 on holdout"`,
		Args:    cobra.ExactArgs(2),
		RunE:    func(cmd *cobra.Command, args []string) error { return m.setApproval(cmd, args, regsm.Approved) },
	}
}

func (m *modelsCLI) rejectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reject GROUP VERSION",
		Short: "Reject a SageMaker model package version (BRIDGE_REGISTRY=sagemaker)",
		Long: `Set a model package version's approval status to Rejected. Rejected versions
are never served: endpoints move off it at the next reconcile pass.`,
		Example: `  BRIDGE_REGISTRY=sagemaker bridge models reject stsPackageGroup 3 --description "drift on segment B"`,
		Args:    cobra.ExactArgs(2),
		RunE:    func(cmd *cobra.Command, args []string) error { return m.setApproval(cmd, args, regsm.Rejected) },
	}
}

func (m *modelsCLI) setApproval(cmd *cobra.Command, args []string, status string) error {
	r, _, ok, err := bridgerun.SelectedPackageRegistry(cmd.Context(), m.cl.cfg)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("bridge models %s works on SageMaker model package groups: set BRIDGE_REGISTRY=sagemaker (MLflow registries use bridge models transition)", cmd.Name())
	}
	v, err := cliargs.Version(args[1])
	if err != nil {
		return err
	}
	arn, err := r.SetApproval(cmd.Context(), model.VersionRef{Model: args[0], Version: v}, status, m.approvalDescription)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s version %d (%s)\n", status, args[0], v, arn)
	return nil
}
