package mlflow

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bridgeops/bridge/internal/model"
)

// Tables of registered models and versions for people (bridge models list
// and show); scripts read the REST API's JSON shapes instead.

// WriteModelTable writes one row per model: latest version per stage,
// aliases, last update.
func WriteModelTable(w io.Writer, ms []RegisteredModel) error {
	if len(ms) == 0 {
		fmt.Fprintln(w, "No registered models. Create one with: bridge models create NAME")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tLATEST\tSTAGING\tPRODUCTION\tALIASES\tUPDATED")
	for _, m := range ms {
		stages := map[string]string{}
		for _, v := range m.LatestVersions {
			stages[v.CurrentStage] = v.Version
		}
		var aliases []string
		for _, a := range m.Aliases {
			aliases = append(aliases, a.Alias+"="+a.Version)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, dash(stages[model.StageNone]), dash(stages[model.StageStaging]),
			dash(stages[model.StageProduction]), dash(strings.Join(aliases, ",")), fmtMillis(int64(m.LastUpdatedTimestamp)))
	}
	return tw.Flush()
}

// WriteModelDetail writes a model's description, tags and one row per
// version.
func WriteModelDetail(w io.Writer, m RegisteredModel, vs []ModelVersion) error {
	fmt.Fprintf(w, "Model:   %s\n", m.Name)
	if m.Description != "" {
		fmt.Fprintf(w, "About:   %s\n", m.Description)
	}
	if len(m.Tags) > 0 {
		fmt.Fprintf(w, "Tags:    %s\n", joinTags(m.Tags))
	}
	fmt.Fprintf(w, "Updated: %s\n\n", fmtMillis(int64(m.LastUpdatedTimestamp)))
	if len(vs) == 0 {
		fmt.Fprintf(w, "No versions. Add one with: bridge models add-version %s PATH_OR_URI\n", m.Name)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTAGE\tALIASES\tCREATED\tSOURCE\tTAGS")
	for _, v := range vs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Version, v.CurrentStage, dash(strings.Join(v.Aliases, ",")),
			fmtMillis(int64(v.CreationTimestamp)), v.Source, dash(joinTags(v.Tags)))
	}
	return tw.Flush()
}

// SortVersions orders versions by number, oldest first.
func SortVersions(vs []ModelVersion) {
	sort.Slice(vs, func(i, j int) bool {
		a, _ := strconv.Atoi(vs[i].Version)
		b, _ := strconv.Atoi(vs[j].Version)
		return a < b
	})
}

func joinTags(tags []Tag) string {
	parts := make([]string, 0, len(tags))
	for _, t := range tags {
		parts = append(parts, t.Key+"="+t.Value)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// dash is s, or "-" for an empty table cell.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func fmtMillis(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05Z")
}
