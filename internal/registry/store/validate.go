package store

import (
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bridgeops/bridge/internal/model"
)

// Limits on names and values, as in MLflow where it has one.
const (
	MaxModelNameLength = 256
	MaxTagKeyLength    = 250
	MaxTagValueLength  = 5000
	MaxAliasLength     = 255
	MaxDescription     = 65535
)

var (
	// Python's \w, as MLflow uses it, is Unicode: letters, digits, marks, _.
	tagKeyRE       = regexp.MustCompile(`^[/\p{L}\p{N}\p{M}_.\- :]*$`)
	aliasRE        = regexp.MustCompile(`^[\p{L}\p{N}\p{M}_\-]*$`)
	aliasVersionRE = regexp.MustCompile(`^[vV]\d+$`)
)

// ValidateModelName checks a registered model name. MLflow's SQL store only
// asks for a non-empty name; its file store also refuses path separators.
// Bridge rejects names that cannot be used in models:/NAME/VERSION URIs and
// endpoint names: slashes, control characters, surrounding spaces.
func ValidateModelName(param, name string) error {
	switch {
	case name == "":
		return invalidf("Missing value for required parameter '%s'.", param)
	case len(name) > MaxModelNameLength:
		return invalidf("'%s' exceeds the maximum length of %d characters", param, MaxModelNameLength)
	case !utf8.ValidString(name):
		return invalidf("Invalid value for parameter '%s': not valid UTF-8.", param)
	case strings.ContainsRune(name, '/'):
		return invalidf("Invalid model name '%s': names cannot contain '/'.", name)
	case strings.TrimSpace(name) != name:
		return invalidf("Invalid model name '%s': names cannot start or end with spaces.", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return invalidf("Invalid model name %q: names cannot contain control characters.", name)
		}
	}
	return nil
}

// CanonicalStage returns MLflow's spelling of a stage name given in any case
// ("production" → "Production"), or an INVALID_PARAMETER_VALUE error.
func CanonicalStage(stage string) (string, error) {
	for _, s := range []string{model.StageNone, model.StageStaging, model.StageProduction, model.StageArchived} {
		if strings.EqualFold(s, stage) {
			return s, nil
		}
	}
	return "", invalidf("Invalid Model Version stage: %s. Value must be one of None, Staging, Production, Archived.", stage)
}

// ValidateTag checks a tag key and value with MLflow's rules.
func ValidateTag(key, value string) error {
	if !tagKeyRE.MatchString(key) {
		return invalidf("Invalid value %q for parameter 'key' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).", key)
	}
	if n := path.Clean(key); n != key || n == "." || strings.HasPrefix(n, "..") || strings.HasPrefix(n, "/") {
		return invalidf("Invalid value %q for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such.", key)
	}
	if len(key) > MaxTagKeyLength {
		return invalidf("'key' exceeds the maximum length of %d characters", MaxTagKeyLength)
	}
	if len(value) > MaxTagValueLength {
		return invalidf("'value' exceeds the maximum length of %d characters", MaxTagValueLength)
	}
	return nil
}

// ValidateAlias checks an alias name with MLflow's rules.
func ValidateAlias(alias string) error {
	switch {
	case alias == "":
		return invalidf("Registered model alias name cannot be empty.")
	case !aliasRE.MatchString(alias):
		return invalidf("Invalid alias name: '%s'. Names may only contain alphanumerics, underscores (_), and dashes (-).", alias)
	case len(alias) > MaxAliasLength:
		return invalidf("'Registered model alias name' exceeds the maximum length of %d characters", MaxAliasLength)
	case strings.EqualFold(alias, "latest"):
		return invalidf("'latest' alias name (case insensitive) is reserved.")
	case aliasVersionRE.MatchString(alias):
		return invalidf("Version alias name '%s' is reserved.", alias)
	}
	return nil
}

func validateDescription(d string) error {
	if len(d) > MaxDescription {
		return invalidf("'description' exceeds the maximum length of %d characters", MaxDescription)
	}
	return nil
}

func validateVersion(v int) error {
	if v < 1 {
		return invalidf("Parameter 'version' must be a positive integer, got '%d'.", v)
	}
	return nil
}
