package reconcile

import (
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/plan"
)

// TagStorer is implemented by registries that keep a deploy tag's value in
// another form than the one given: SageMaker's CustomerMetadataProperties
// take no commas, quotes or parentheses and at most 256 characters.
// StoredTagValue returns the form value is kept in.
type TagStorer interface {
	StoredTagValue(key, value string) string
}

// settled drops from ops every value the registry already holds in its
// stored form, so that a pass (or bridge plan, in another process) sees
// nothing to write for tags it wrote before.
func settled(ops []plan.TagOp, versions []model.DesiredVersion, reg any) []plan.TagOp {
	ts, ok := reg.(TagStorer)
	if !ok {
		return ops
	}
	have := make(map[model.VersionRef]map[string]string, len(versions))
	for _, v := range versions {
		have[v.Ref] = v.Tags
	}
	out := ops[:0]
	for _, op := range ops {
		for k, w := range op.Set {
			if h, ok := have[op.Ref][k]; ok && h == ts.StoredTagValue(k, w) {
				delete(op.Set, k)
			}
		}
		if !op.Empty() {
			out = append(out, op)
		}
	}
	return out
}
