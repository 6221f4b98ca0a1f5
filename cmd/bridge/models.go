package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
)

// defaultRegistryURL is where bridge models looks for a registry when
// neither --registry nor BRIDGE_MLFLOW_URI says.
const defaultRegistryURL = "http://127.0.0.1:5000"

var modelsFlags struct {
	registry    string
	output      string
	description string
	tags        []string
	runID       string
	archive     bool
	del         bool
	filter      string
}

var modelsCmd = &cobra.Command{
	Use:   "models",
	Short: "Manage registered models and versions in any MLflow-compatible registry",
	Long: `Manage registered models, versions, stages, aliases and tags over MLflow's
REST API: Bridge's embedded registry (bridge registry serve, bridge run) or any
MLflow server. The registry is --registry, else BRIDGE_MLFLOW_URI, else
` + defaultRegistryURL + `; the token is BRIDGE_REGISTRY_TOKEN, else
MLFLOW_TRACKING_TOKEN. When no server answers at the default address and the
home (--home, BRIDGE_HOME, default ./.bridge) holds an embedded registry, the
commands use it directly, so they also work while bridge run is stopped.`,
	Example: `  bridge models create iris
  bridge models add-version iris ./iris-model        # upload a local MLflow model dir
  bridge models transition iris 1 Production --archive-existing
  bridge models show iris -o json`,
}

func modelsClient() *mlflow.Client {
	u := modelsFlags.registry
	if u == "" {
		u = cfg.MLflowURI
	}
	if u == "" {
		u = defaultRegistryURL
	}
	if modelsLocal != nil { // no server answered: the home's embedded registry
		u = modelsLocal.URL
	}
	tok := cfg.RegistryToken
	if tok == "" {
		tok = cfg.Get("MLFLOW_TRACKING_TOKEN", "")
	}
	return mlflow.NewClient(u, tok, &http.Client{Timeout: 10 * time.Minute})
}

func parseTagFlags(tags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--tag %q: want KEY=VALUE", t)
		}
		out[k] = v
	}
	return out, nil
}

func parseVersionArg(s string) (int, error) {
	v, err := model.ParseVersion(s)
	if err != nil {
		return 0, fmt.Errorf("%w (versions are the numbers bridge models show prints)", err)
	}
	return v, nil
}

// withRegistryHint adds what to do next to a missing-model error.
func withRegistryHint(err error, name string) error {
	if mlflow.IsNotFound(err) && strings.Contains(err.Error(), "Registered Model") {
		return fmt.Errorf("%w (create it with: bridge models create %s)", err, name)
	}
	return err
}

var modelsCreateCmd = &cobra.Command{
	Use:   "create NAME",
	Short: "Create a registered model",
	Example: `  bridge models create iris
  bridge models create iris --description "Iris classifier" --tag team=ml`,
	Args: cobra.ExactArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		tags, err := parseTagFlags(modelsFlags.tags)
		if err != nil {
			return err
		}
		c := modelsClient()
		m, err := c.CreateRegisteredModel(cmd.Context(), args[0], modelsFlags.description, tags)
		if err != nil {
			if mlflow.IsAlreadyExists(err) {
				return fmt.Errorf("%w (add versions with: bridge models add-version %s PATH_OR_URI)", err, args[0])
			}
			return err
		}
		if modelsFlags.output == "json" {
			return emitJSON(cmd.OutOrStdout(), mlflow.RegisteredModelResponse{RegisteredModel: m})
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Created model %s\n", m.Name)
		return nil
	},
}

var modelsAddVersionCmd = &cobra.Command{
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
		tags, err := parseTagFlags(modelsFlags.tags)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		c := modelsClient()
		if _, err := c.GetRegisteredModel(ctx, name); err != nil {
			return withRegistryHint(err, name)
		}
		v, err := c.AddVersion(ctx, src, mlflow.VersionSpec{Name: name, RunID: modelsFlags.runID, Description: modelsFlags.description, Tags: tags})
		if err != nil {
			return withRegistryHint(err, name)
		}
		if modelsFlags.output == "json" {
			return emitJSON(cmd.OutOrStdout(), mlflow.ModelVersionResponse{ModelVersion: v})
		}
		fmt.Fprintln(cmd.OutOrStdout(), v.Version)
		return nil
	},
}

var modelsTransitionCmd = &cobra.Command{
	Use:   "transition NAME VERSION STAGE",
	Short: "Move a version to a stage (None, Staging, Production, Archived)",
	Example: `  bridge models transition iris 3 Staging
  bridge models transition iris 3 production --archive-existing   # archive the current Production versions`,
	Args: cobra.ExactArgs(3),
	RunE: func(cmd *cobra.Command, args []string) error {
		v, err := parseVersionArg(args[1])
		if err != nil {
			return err
		}
		c := modelsClient()
		mv, err := c.TransitionStage(cmd.Context(), args[0], v, args[2], modelsFlags.archive)
		if err != nil {
			return withRegistryHint(err, args[0])
		}
		if modelsFlags.output == "json" {
			return emitJSON(cmd.OutOrStdout(), mlflow.ModelVersionResponse{ModelVersion: mv})
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s version %s is now in stage %s\n", mv.Name, mv.Version, mv.CurrentStage)
		return nil
	},
}

var modelsAliasCmd = &cobra.Command{
	Use:   "alias NAME ALIAS [VERSION]",
	Short: "Point an alias (champion, challenger, ...) at a version, or remove it with --delete",
	Example: `  bridge models alias iris champion 3
  bridge models alias iris challenger --delete`,
	Args: func(cmd *cobra.Command, args []string) error {
		if modelsFlags.del {
			return cobra.ExactArgs(2)(cmd, args)
		}
		return cobra.ExactArgs(3)(cmd, args)
	},
	RunE: func(cmd *cobra.Command, args []string) error {
		c := modelsClient()
		if modelsFlags.del {
			if err := c.DeleteAlias(cmd.Context(), args[0], args[1]); err != nil {
				return withRegistryHint(err, args[0])
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed alias %s of %s\n", args[1], args[0])
			return nil
		}
		v, err := parseVersionArg(args[2])
		if err != nil {
			return err
		}
		if err := c.SetAlias(cmd.Context(), args[0], args[1], v); err != nil {
			return withRegistryHint(err, args[0])
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s@%s → version %d\n", args[0], args[1], v)
		return nil
	},
}

var modelsTagCmd = &cobra.Command{
	Use:   "tag NAME VERSION KEY [VALUE]",
	Short: "Set a tag on a version, or remove it with --delete",
	Example: `  bridge models tag iris 3 validated true
  bridge models tag iris 3 validated --delete`,
	Args: func(cmd *cobra.Command, args []string) error {
		if modelsFlags.del {
			return cobra.ExactArgs(3)(cmd, args)
		}
		return cobra.ExactArgs(4)(cmd, args)
	},
	RunE: func(cmd *cobra.Command, args []string) error {
		v, err := parseVersionArg(args[1])
		if err != nil {
			return err
		}
		c := modelsClient()
		if modelsFlags.del {
			if err := c.DeleteModelVersionTag(cmd.Context(), args[0], v, args[2]); err != nil {
				return withRegistryHint(err, args[0])
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed tag %s from %s version %d\n", args[2], args[0], v)
			return nil
		}
		if err := c.SetModelVersionTag(cmd.Context(), args[0], v, args[2], args[3]); err != nil {
			return withRegistryHint(err, args[0])
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Tagged %s version %d: %s=%s\n", args[0], v, args[2], args[3])
		return nil
	},
}

var modelsListCmd = &cobra.Command{
	Use:   "list",
	Short: "List registered models with their latest version per stage and their aliases",
	Example: `  bridge models list
  bridge models list --filter "name LIKE 'iris%'" -o json`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, args []string) error {
		if r, ok, err := packageRegistry(cmd); ok || err != nil {
			if err != nil {
				return err
			}
			return listPackageGroups(cmd, r)
		}
		c := modelsClient()
		ms, err := c.AllRegisteredModels(cmd.Context(), mlflow.SearchOptions{Filter: modelsFlags.filter, MaxResults: 1000})
		if err != nil {
			return err
		}
		if modelsFlags.output == "json" {
			if ms == nil {
				ms = []mlflow.RegisteredModel{}
			}
			return emitJSON(cmd.OutOrStdout(), mlflow.SearchRegisteredModelsResponse{RegisteredModels: ms})
		}
		return mlflow.WriteModelTable(cmd.OutOrStdout(), ms)
	},
}

var modelsShowCmd = &cobra.Command{
	Use:   "show NAME",
	Short: "Show a model's versions with stages, aliases, tags and sources",
	Example: `  bridge models show iris
  bridge models show iris -o json | jq '.model_versions[] | select(.current_stage == "Production")'`,
	Args: cobra.ExactArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		if r, ok, err := packageRegistry(cmd); ok || err != nil {
			if err != nil {
				return err
			}
			return showPackageGroup(cmd, r, args[0])
		}
		ctx := cmd.Context()
		c := modelsClient()
		m, err := c.GetRegisteredModel(ctx, args[0])
		if err != nil {
			return withRegistryHint(err, args[0])
		}
		vs, err := c.VersionsOf(ctx, args[0])
		if err != nil {
			return err
		}
		mlflow.SortVersions(vs)
		if modelsFlags.output == "json" {
			if vs == nil {
				vs = []mlflow.ModelVersion{}
			}
			return emitJSON(cmd.OutOrStdout(), struct {
				RegisteredModel mlflow.RegisteredModel `json:"registered_model"`
				ModelVersions   []mlflow.ModelVersion  `json:"model_versions"`
			}{m, vs})
		}
		return mlflow.WriteModelDetail(cmd.OutOrStdout(), m, vs)
	},
}

func init() {
	pf := modelsCmd.PersistentFlags()
	pf.StringVar(&modelsFlags.registry, "registry", "", "registry URL (default $BRIDGE_MLFLOW_URI, else "+defaultRegistryURL+")")
	pf.StringVarP(&modelsFlags.output, "output", "o", "table", "output format: table or json")
	modelsCmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := rootCmd.PersistentPreRunE(cmd, args); err != nil {
			return err
		}
		if modelsFlags.output != "table" && modelsFlags.output != "json" {
			return fmt.Errorf("-o %q: want table or json", modelsFlags.output)
		}
		return resolveModelsRegistry(cmd.Context())
	}
	for _, c := range []*cobra.Command{modelsCreateCmd, modelsAddVersionCmd} {
		c.Flags().StringVar(&modelsFlags.description, "description", "", "description")
		c.Flags().StringArrayVar(&modelsFlags.tags, "tag", nil, "tag KEY=VALUE (repeatable)")
	}
	modelsAddVersionCmd.Flags().StringVar(&modelsFlags.runID, "run-id", "", "MLflow run that produced the model")
	modelsTransitionCmd.Flags().BoolVar(&modelsFlags.archive, "archive-existing", false, "archive the versions currently in the target stage (Staging and Production only)")
	modelsAliasCmd.Flags().BoolVar(&modelsFlags.del, "delete", false, "remove the alias instead")
	modelsTagCmd.Flags().BoolVar(&modelsFlags.del, "delete", false, "remove the tag instead")
	modelsListCmd.Flags().StringVar(&modelsFlags.filter, "filter", "", `MLflow filter, e.g. "name LIKE 'iris%'"`)
	modelsCmd.AddCommand(modelsCreateCmd, modelsAddVersionCmd, modelsTransitionCmd, modelsAliasCmd, modelsTagCmd, modelsListCmd, modelsShowCmd)
	rootCmd.AddCommand(modelsCmd)
}
