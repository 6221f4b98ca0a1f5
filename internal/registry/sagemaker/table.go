package sagemaker

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/bridgeops/bridge/internal/config"
)

// What bridge models list and show print with BRIDGE_REGISTRY=sagemaker.

// GroupRow is one model package group with the version each slot serves.
type GroupRow struct {
	Group    string         `json:"group"`
	ARN      string         `json:"arn"`
	Slots    map[string]int `json:"slots"`
	Packages int            `json:"packages"`
}

// Overview lists every group with the version each slot of rules serves.
func (r *Registry) Overview(ctx context.Context, rules []config.SlotRule) ([]GroupRow, error) {
	groups, err := r.Groups(ctx)
	if err != nil {
		return nil, err
	}
	rows := []GroupRow{}
	for _, g := range groups {
		pkgs, err := r.Packages(ctx, g.Name)
		if err != nil {
			return nil, err
		}
		rw := GroupRow{Group: g.Name, ARN: g.ARN, Slots: map[string]int{}, Packages: len(pkgs)}
		for _, v := range Versions(pkgs, rules, nil) {
			for _, s := range v.Aliases {
				rw.Slots[s] = v.Version
			}
		}
		rows = append(rows, rw)
	}
	return rows, nil
}

// WriteGroupTable writes groups as a table, one column per slot.
func WriteGroupTable(w io.Writer, rows []GroupRow, rules []config.SlotRule) error {
	if len(rows) == 0 {
		fmt.Fprintln(w, "No model package groups.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := []string{"GROUP"}
	for _, s := range rules {
		head = append(head, strings.ToUpper(s.Slot))
	}
	fmt.Fprintln(tw, strings.Join(append(head, "PACKAGES"), "\t"))
	for _, rw := range rows {
		cells := []string{rw.Group}
		for _, s := range rules {
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

// PackageRow is one package version with the slots that serve it.
type PackageRow struct {
	Summary
	Slots string `json:"slots,omitempty"`
}

// PackageRows pairs a group's packages with the slots of rules serving them.
func PackageRows(pkgs []Summary, rules []config.SlotRule) []PackageRow {
	slots := map[int]string{}
	for _, v := range Versions(pkgs, rules, nil) {
		slots[v.Version] = strings.Join(v.Aliases, ",")
	}
	rows := []PackageRow{}
	for _, p := range pkgs {
		rows = append(rows, PackageRow{p, slots[p.Version]})
	}
	return rows
}

// WritePackageTable writes a group's package versions as a table.
func WritePackageTable(w io.Writer, group string, rows []PackageRow) error {
	fmt.Fprintf(w, "Model package group: %s\n\n", group)
	if len(rows) == 0 {
		fmt.Fprintln(w, "No packages.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tAPPROVAL\tSERVED ON\tCREATED\tARN")
	for _, p := range rows {
		served := p.Slots
		if served == "" {
			served = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.Version, p.Approval, served, p.Created.UTC().Format("2006-01-02 15:04:05Z"), p.ARN)
	}
	return tw.Flush()
}
