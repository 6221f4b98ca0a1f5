package main

import (
	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/cliout"
	"github.com/bridgeops/bridge/internal/config"
)

func newConfigCmd(cl *bridgeCLI) *cobra.Command {
	var configFlags struct{ output string }
	configCmd := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration and where each value comes from",
		Long: `Print every setting Bridge reads with its effective value and its source:
flag, env (the process environment), .env (the file named by BRIDGE_ENV_FILE,
default ./.env) or default. Flags override the environment, which overrides
the .env file, which overrides defaults. Secrets (tokens) are masked.

Every invalid value is reported at once, before any command runs.`,
		Example: `  bridge config
  bridge --home /srv/bridge config -o json
  LOG_LEVEL=debug bridge config`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cliout.Check(configFlags.output); err != nil {
				return err
			}
			return cliout.Print(cmd.OutOrStdout(), configFlags.output == "json", cl.cfg.Effective(), config.WriteEffective)
		},
	}
	configCmd.Flags().StringVarP(&configFlags.output, "output", "o", "table", "output format: table or json")
	return configCmd
}
