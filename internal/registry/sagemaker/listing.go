package sagemaker

import (
	"context"
	"io"

	"github.com/bridgeops/bridge/internal/cliout"
	"github.com/bridgeops/bridge/internal/config"
)

// List writes every model package group with the version each slot
// serves: a table, or, with asJSON, {"model_package_groups": [...]}.
func (r *Registry) List(ctx context.Context, w io.Writer, rules []config.SlotRule, asJSON bool) error {
	rows, err := r.Overview(ctx, rules)
	if err != nil {
		return err
	}
	if asJSON {
		return cliout.JSON(w, map[string]any{"model_package_groups": rows})
	}
	return WriteGroupTable(w, rows, rules)
}

// Show writes every package version of group, newest first, with the
// slots it serves: a table, or, with asJSON, {"group": ..., "packages":
// [...]}.
func (r *Registry) Show(ctx context.Context, w io.Writer, group string, rules []config.SlotRule, asJSON bool) error {
	if _, err := r.Group(ctx, group); err != nil {
		return err
	}
	pkgs, err := r.Packages(ctx, group)
	if err != nil {
		return err
	}
	rows := PackageRows(pkgs, rules)
	if asJSON {
		return cliout.JSON(w, map[string]any{"group": group, "packages": rows})
	}
	return WritePackageTable(w, group, rows)
}
