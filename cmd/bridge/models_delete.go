package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/cliargs"
)

func (m *modelsCLI) deleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a registered model and all its versions",
		Long: `Delete registered model NAME with all its versions, aliases and tags. A
running bridge run removes the model's endpoints on its next pass. A model with
versions in Staging or Production, or with aliases, is deleted only with
--force (those endpoints serve traffic).`,
		Example: `  bridge models delete churn-experiment
  bridge models delete churn --force      # also when versions are in Production`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := m.client().DeleteModelUnlessServed(cmd.Context(), args[0], m.force)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted model %s and its %d version(s)\n", args[0], n)
			return nil
		},
	}
}

func (m *modelsCLI) deleteVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete-version NAME VERSION",
		Short: "Delete one version of a registered model",
		Long: `Delete version VERSION of model NAME. A running bridge run stops serving it
on its next pass. A version in Staging or Production, or with an alias, is
deleted only with --force.`,
		Example: `  bridge models delete-version churn 3
  bridge models delete-version churn 2 --force   # also when it is in Production`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := cliargs.Version(args[1])
			if err != nil {
				return err
			}
			if err := m.client().DeleteVersionUnlessServed(cmd.Context(), args[0], v, m.force); err != nil {
				return cliargs.RegistryHint(err, args[0])
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s version %d\n", args[0], v)
			return nil
		},
	}
}
