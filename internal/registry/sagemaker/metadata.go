package sagemaker

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxPropertyLen is SageMaker's limit on a CustomerMetadataProperties value.
const maxPropertyLen = 256

// MetadataValue makes s a valid CustomerMetadataValue: 1 to 256
// characters, each a letter, a separator, a number or one of _.:/=+-@.
// Other characters (commas, quotes, parentheses, line breaks) become
// spaces, runs of spaces one, and a longer value keeps its first 96 and
// last 155 characters around " ... ".
// The deploy URL list "u1,u2" becomes "u1 u2"; an empty value "-".
func MetadataValue(s string) string {
	mapped := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Z, r) || strings.ContainsRune("_.:/=+-@", r) {
			return r
		}
		return ' '
	}, s)
	out := strings.Join(strings.Fields(mapped), " ")
	if utf8.RuneCountInString(out) > maxPropertyLen {
		// Keep the start (what failed) and the end (why: an error's root
		// cause comes last), which a middle of repeated context separates.
		runes := []rune(out)
		const head = 96
		tail := maxPropertyLen - head - len(" ... ")
		out = strings.TrimRight(string(runes[:head]), " ") + " ... " + strings.TrimLeft(string(runes[len(runes)-tail:]), " ")
	}
	if out == "" {
		return "-"
	}
	return out
}
