package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
)

var modelsApproveCmd = &cobra.Command{
	Use:   "approve GROUP VERSION",
	Short: "Approve a SageMaker model package version (BRIDGE_REGISTRY=sagemaker)",
	Long: `Set a model package version's approval status to Approved. With the default
slot rules its endpoint brdg-<group>-production then serves it, from the next
reconcile pass of bridge run on.`,
	Example: `  BRIDGE_REGISTRY=sagemaker bridge models approve stsPackageGroup 3 --description "AUC 0.91 on holdout"`,
	Args:    cobra.ExactArgs(2),
	RunE:    func(cmd *cobra.Command, args []string) error { return setApproval(cmd, args, regsm.Approved) },
}

var modelsRejectCmd = &cobra.Command{
	Use:   "reject GROUP VERSION",
	Short: "Reject a SageMaker model package version (BRIDGE_REGISTRY=sagemaker)",
	Long: `Set a model package version's approval status to Rejected. Rejected versions
are never served: endpoints move off it at the next reconcile pass.`,
	Example: `  BRIDGE_REGISTRY=sagemaker bridge models reject stsPackageGroup 3 --description "drift on segment B"`,
	Args:    cobra.ExactArgs(2),
	RunE:    func(cmd *cobra.Command, args []string) error { return setApproval(cmd, args, regsm.Rejected) },
}

var approvalDescription string

func init() {
	for _, c := range []*cobra.Command{modelsApproveCmd, modelsRejectCmd} {
		c.Flags().StringVar(&approvalDescription, "description", "", "approval description (why)")
		modelsCmd.AddCommand(c)
	}
}

// packageRegistry opens the model package group registry, or reports
// false when BRIDGE_REGISTRY is not sagemaker.
func packageRegistry(cmd *cobra.Command) (*regsm.Registry, bool, error) {
	rs, err := cfg.Registry()
	if err != nil {
		return nil, false, err
	}
	if rs.Kind != config.RegistrySageMaker {
		return nil, false, nil
	}
	cfg.Export() // the AWS SDK reads AWS_* from the process environment
	r, err := newPackageRegistry(cmd.Context(), cfg, rs)
	return r, true, err
}

func setApproval(cmd *cobra.Command, args []string, status string) error {
	r, ok, err := packageRegistry(cmd)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("bridge models %s works on SageMaker model package groups: set BRIDGE_REGISTRY=sagemaker (MLflow registries use bridge models transition)", cmd.Name())
	}
	v, err := parseVersionArg(args[1])
	if err != nil {
		return err
	}
	arn, err := r.SetApproval(cmd.Context(), model.VersionRef{Model: args[0], Version: v}, status, approvalDescription)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s version %d (%s)\n", status, args[0], v, arn)
	return nil
}

// listPackageGroups is bridge models list with BRIDGE_REGISTRY=sagemaker:
// each group with the version every slot serves.
func listPackageGroups(cmd *cobra.Command, r *regsm.Registry) error {
	rs, _ := cfg.Registry()
	groups, err := r.Groups(cmd.Context())
	if err != nil {
		return err
	}
	type row struct {
		Group    string         `json:"group"`
		ARN      string         `json:"arn"`
		Slots    map[string]int `json:"slots"`
		Packages int            `json:"packages"`
	}
	rows := []row{}
	for _, g := range groups {
		pkgs, err := r.Packages(cmd.Context(), g.Name)
		if err != nil {
			return err
		}
		rw := row{Group: g.Name, ARN: g.ARN, Slots: map[string]int{}, Packages: len(pkgs)}
		for _, v := range regsm.Versions(pkgs, rs.Slots, nil) {
			for _, s := range v.Aliases {
				rw.Slots[s] = v.Version
			}
		}
		rows = append(rows, rw)
	}
	out := cmd.OutOrStdout()
	if modelsFlags.output == "json" {
		return emitJSON(out, map[string]any{"model_package_groups": rows})
	}
	if len(rows) == 0 {
		fmt.Fprintln(out, "No model package groups.")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	head := []string{"GROUP"}
	for _, s := range rs.Slots {
		head = append(head, strings.ToUpper(s.Slot))
	}
	fmt.Fprintln(tw, strings.Join(append(head, "PACKAGES"), "\t"))
	for _, rw := range rows {
		cells := []string{rw.Group}
		for _, s := range rs.Slots {
			if v, ok := rw.Slots[s.Slot]; ok {
				cells = append(cells, fmt.Sprint(v))
			} else {
				cells = append(cells, "-")
			}
		}
		fmt.Fprintln(tw, strings.Join(append(cells, fmt.Sprint(rw.Packages)), "\t"))
	}
	return tw.Flush()
}

// showPackageGroup is bridge models show GROUP with
// BRIDGE_REGISTRY=sagemaker: every package version, newest first.
func showPackageGroup(cmd *cobra.Command, r *regsm.Registry, group string) error {
	rs, _ := cfg.Registry()
	if _, err := r.Group(cmd.Context(), group); err != nil {
		return err
	}
	pkgs, err := r.Packages(cmd.Context(), group)
	if err != nil {
		return err
	}
	vs := regsm.Versions(pkgs, rs.Slots, nil)
	return printPackages(cmd.OutOrStdout(), group, pkgs, vs)
}

func printPackages(w io.Writer, group string, pkgs []regsm.Summary, vs []model.ModelVersion) error {
	slots := map[int]string{}
	for _, v := range vs {
		slots[v.Version] = strings.Join(v.Aliases, ",")
	}
	if modelsFlags.output == "json" {
		type row struct {
			regsm.Summary
			Slots string `json:"slots,omitempty"`
		}
		rows := []row{}
		for _, p := range pkgs {
			rows = append(rows, row{p, slots[p.Version]})
		}
		return emitJSON(w, map[string]any{"group": group, "packages": rows})
	}
	fmt.Fprintf(w, "Model package group: %s\n\n", group)
	if len(pkgs) == 0 {
		fmt.Fprintln(w, "No packages.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tAPPROVAL\tSERVED ON\tCREATED\tARN")
	for _, p := range pkgs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.Version, p.Approval, mlflow.Dash(slots[p.Version]), p.Created.UTC().Format("2006-01-02 15:04:05Z"), p.ARN)
	}
	return tw.Flush()
}
