package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/cliargs"
	"github.com/bridgeops/bridge/internal/cliout"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
)

// modelsCLI is the state of one bridge models command tree: its flag
// values and the embedded registry opened in-process when no server
// answered.
type modelsCLI struct {
	cl          *bridgeCLI
	registry    string
	output      string
	description string
	tags        []string
	runID       string
	archive     bool
	del         bool
	filter      string
	force       bool // delete, delete-version

	approvalDescription string // approve, reject

	// url is the registry the commands talk to; local is the home's
	// embedded registry, opened in-process when no server answered (nil
	// otherwise).
	url   string
	local *mlflowapi.InProcess
}

func (m *modelsCLI) rootCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "models",
		Short: "Manage registered models and versions in any MLflow-compatible registry",
		Long: `Manage registered models, versions, stages, aliases and tags over MLflow's
REST API: Bridge's embedded registry (bridge registry serve, bridge run) or any
MLflow server. The registry is --registry, else BRIDGE_MLFLOW_URI, else
` + mlflowapi.DefaultURL + `; the token is BRIDGE_REGISTRY_TOKEN, else
MLFLOW_TRACKING_TOKEN. When no server answers at the default address and the
home (--home, BRIDGE_HOME, default ./.bridge) holds an embedded registry, the
commands use it directly, so they also work while bridge run is stopped.`,
		Example: `  bridge models create iris
  bridge models add-version iris ./iris-model        # upload a local MLflow model dir
  bridge models transition iris 1 Production --archive-existing
  bridge models show iris -o json`,
	}
}

// resolveRegistry decides which registry the commands talk to
// (bridgerun.ResolveModelsRegistry).
func (m *modelsCLI) resolveRegistry(ctx context.Context) (err error) {
	m.closeLocal()
	m.url, m.local, err = bridgerun.ResolveModelsRegistry(ctx, m.cl.cfg, m.registry)
	return err
}

// closeLocal stops the in-process registry, if one was opened.
func (m *modelsCLI) closeLocal() {
	if m.local != nil {
		m.local.Close()
		m.local = nil
	}
}

func (m *modelsCLI) client() *mlflow.Client {
	return bridgerun.MLflowClient(m.cl.cfg, m.url, m.registry)
}

func (m *modelsCLI) createCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "create NAME",
		Short: "Create a registered model",
		Example: `  bridge models create iris
  bridge models create iris --description "Iris classifier" --tag team=ml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tags, err := cliargs.KeyValues(m.tags, "--tag", "KEY=VALUE")
			if err != nil {
				return err
			}
			return m.client().CreateModel(cmd.Context(), cmd.OutOrStdout(), args[0], m.description, tags, m.output == "json")
		},
	}
}

func (m *modelsCLI) addVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "add-version NAME PATH_OR_URI",
		Short: "Register a new model version from a local model directory or an artifact URI; prints its number",
		Long: `Register a new version of model NAME. A local directory (an MLflow model
directory with an MLmodel file, as mlflow.<flavor>.save_model writes it) is
uploaded whole to the registry's artifact store first, under
mlflow-artifacts:/NAME/<random id>/; a URI (s3://, file://, mlflow-artifacts:/,
runs:/, models:/ ...) is registered as it is. Prints the new version number.`,
		Example: `  bridge models add-version iris ./iris-model
  V=$(bridge models add-version iris s3://my-bucket/models/iris/3)
  bridge models add-version iris ./iris-model --run-id 4f2c... --tag owner=ana -o json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, src := args[0], args[1]
			tags, err := cliargs.KeyValues(m.tags, "--tag", "KEY=VALUE")
			if err != nil {
				return err
			}
			spec := mlflow.VersionSpec{Name: name, RunID: m.runID, Description: m.description, Tags: tags}
			return cliargs.RegistryHint(m.client().AddModelVersion(cmd.Context(), cmd.OutOrStdout(), src, spec, m.output == "json"), name)
		},
	}
}

func (m *modelsCLI) transitionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "transition NAME VERSION STAGE",
		Short: "Move a version to a stage (None, Staging, Production, Archived)",
		Example: `  bridge models transition iris 3 Staging
  bridge models transition iris 3 production --archive-existing   # archive the current Production versions`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := cliargs.Version(args[1])
			if err != nil {
				return err
			}
			return cliargs.RegistryHint(m.client().Transition(cmd.Context(), cmd.OutOrStdout(), args[0], v, args[2], m.archive, m.output == "json"), args[0])
		},
	}
}

func (m *modelsCLI) aliasCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "alias NAME ALIAS [VERSION]",
		Short: "Point an alias (champion, challenger, ...) at a version, or remove it with --delete",
		Example: `  bridge models alias iris champion 3
  bridge models alias iris challenger --delete`,
		Args: func(cmd *cobra.Command, args []string) error {
			if m.del {
				return cobra.ExactArgs(2)(cmd, args)
			}
			return cobra.ExactArgs(3)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if m.del {
				return cliargs.RegistryHint(m.client().RemoveAlias(cmd.Context(), cmd.OutOrStdout(), args[0], args[1]), args[0])
			}
			v, err := cliargs.Version(args[2])
			if err != nil {
				return err
			}
			return cliargs.RegistryHint(m.client().PointAlias(cmd.Context(), cmd.OutOrStdout(), args[0], args[1], v), args[0])
		},
	}
}

func (m *modelsCLI) tagCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "tag NAME VERSION KEY [VALUE]",
		Short: "Set a tag on a version, or remove it with --delete",
		Example: `  bridge models tag iris 3 validated true
  bridge models tag iris 3 validated --delete`,
		Args: func(cmd *cobra.Command, args []string) error {
			if m.del {
				return cobra.ExactArgs(3)(cmd, args)
			}
			return cobra.ExactArgs(4)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := cliargs.Version(args[1])
			if err != nil {
				return err
			}
			if m.del {
				return cliargs.RegistryHint(m.client().UntagVersion(cmd.Context(), cmd.OutOrStdout(), args[0], v, args[2]), args[0])
			}
			return cliargs.RegistryHint(m.client().TagVersion(cmd.Context(), cmd.OutOrStdout(), args[0], v, args[2], args[3]), args[0])
		},
	}
}

func (m *modelsCLI) listCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List registered models with their latest version per stage and their aliases",
		Example: `  bridge models list
  bridge models list --filter "name LIKE 'iris%'" -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if r, slots, ok, err := bridgerun.SelectedPackageRegistry(cmd.Context(), m.cl.cfg); ok || err != nil {
				if err != nil {
					return err
				}
				return r.List(cmd.Context(), cmd.OutOrStdout(), slots, m.output == "json")
			}
			return m.client().ListModels(cmd.Context(), cmd.OutOrStdout(), m.filter, m.output == "json")
		},
	}
}

func (m *modelsCLI) showCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show a model's versions with stages, aliases, tags and sources",
		Example: `  bridge models show iris
  bridge models show iris -o json | jq '.model_versions[] | select(.current_stage == "Production")'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if r, slots, ok, err := bridgerun.SelectedPackageRegistry(cmd.Context(), m.cl.cfg); ok || err != nil {
				if err != nil {
					return err
				}
				return r.Show(cmd.Context(), cmd.OutOrStdout(), args[0], slots, m.output == "json")
			}
			return cliargs.RegistryHint(m.client().ShowModel(cmd.Context(), cmd.OutOrStdout(), args[0], m.output == "json"), args[0])
		},
	}
}

func newModelsCmd(cl *bridgeCLI) *cobra.Command {
	m := &modelsCLI{cl: cl}
	modelsCmd := m.rootCmd()
	pf := modelsCmd.PersistentFlags()
	pf.StringVar(&m.registry, "registry", "", "registry URL (default $BRIDGE_MLFLOW_URI, else "+mlflowapi.DefaultURL+")")
	pf.StringVarP(&m.output, "output", "o", "table", "output format: table or json")
	modelsCmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := cl.load(cmd, args); err != nil {
			return err
		}
		if err := cliout.Check(m.output); err != nil {
			return err
		}
		return m.resolveRegistry(cmd.Context())
	}
	modelsCmd.PersistentPostRun = func(*cobra.Command, []string) { m.closeLocal() }
	create, addVersion, transition, alias, tag, list := m.createCmd(), m.addVersionCmd(), m.transitionCmd(), m.aliasCmd(), m.tagCmd(), m.listCmd()
	for _, c := range []*cobra.Command{create, addVersion} {
		c.Flags().StringVar(&m.description, "description", "", "description")
		c.Flags().StringArrayVar(&m.tags, "tag", nil, "tag KEY=VALUE (repeatable)")
	}
	addVersion.Flags().StringVar(&m.runID, "run-id", "", "MLflow run that produced the model")
	transition.Flags().BoolVar(&m.archive, "archive-existing", false, "archive the versions currently in the target stage (Staging and Production only)")
	alias.Flags().BoolVar(&m.del, "delete", false, "remove the alias instead")
	tag.Flags().BoolVar(&m.del, "delete", false, "remove the tag instead")
	list.Flags().StringVar(&m.filter, "filter", "", `MLflow filter, e.g. "name LIKE 'iris%'"`)
	del, delVersion := m.deleteCmd(), m.deleteVersionCmd()
	del.Flags().BoolVar(&m.force, "force", false, "delete even when versions are in Staging or Production or have aliases")
	delVersion.Flags().BoolVar(&m.force, "force", false, "delete even when the version is in Staging or Production or has an alias")
	approve, reject := m.approveCmd(), m.rejectCmd()
	for _, c := range []*cobra.Command{approve, reject} {
		c.Flags().StringVar(&m.approvalDescription, "description", "", "approval description (why)")
	}
	modelsCmd.AddCommand(create, addVersion, transition, alias, tag, list, m.showCmd(), del, delVersion, approve, reject)
	return modelsCmd
}
