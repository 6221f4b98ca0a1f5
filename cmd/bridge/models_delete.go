package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
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
			ctx := cmd.Context()
			c := m.client()
			name := args[0]
			if _, err := c.GetRegisteredModel(ctx, name); err != nil {
				return err
			}
			vs, err := c.VersionsOf(ctx, name)
			if err != nil {
				return err
			}
			if s := mlflow.ServingVersions(vs); s != "" && !m.force {
				return fmt.Errorf("model %s has endpoints serving %s: archive them first, or delete anyway with --force", name, s)
			}
			if err := c.DeleteRegisteredModel(ctx, name); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted model %s and its %d version(s)\n", name, len(vs))
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
			ctx := cmd.Context()
			v, err := parseVersionArg(args[1])
			if err != nil {
				return err
			}
			c := m.client()
			mv, err := c.GetModelVersion(ctx, args[0], v)
			if err != nil {
				return withRegistryHint(err, args[0])
			}
			if s := mlflow.ServingVersions([]mlflow.ModelVersion{mv}); s != "" && !m.force {
				return fmt.Errorf("%s %s is served: move it to Archived first (bridge models transition %s %d Archived), or delete anyway with --force", args[0], s, args[0], v)
			}
			if err := c.DeleteModelVersion(ctx, args[0], v); err != nil {
				return withRegistryHint(err, args[0])
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s version %d\n", args[0], v)
			return nil
		},
	}
}
