// Package sgname maps registry names (models, versions, stages, aliases) to
// SageMaker resource names and back.
//
// SageMaker names must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} and are
// unique regardless of case (SageMaker lower-cases them in ARNs). Bridge's
// names carry the prefix "brdg-", which the IAM policies scope to:
//
//	model           brdg-<model>-<version>          brdg-iris-3
//	endpoint        brdg-<model>-<slot>             brdg-iris-production
//	endpoint config brdg-<model>-<slot>-<8 hex>     brdg-iris-production-1a2b3c4d
//
// A name is "plain" when the model name is lower-case letters and digits in
// hyphen-separated words, the slot is one such word (stages map to latest,
// staging, production; an alias spelled like a stage is not plain), and the
// whole fits: endpoints leave room for the config suffix (54 characters).
// Plain names decode back without any lookup. Every other name is "hashed":
// brdg-<sanitised abbreviation>--<10 base32 characters of SHA-256 over the
// exact registry names>. Plain names never contain "--", hashed names always
// do, so the two forms never collide; two hashed names collide only if
// SHA-256 truncated to 50 bits does. Hashed names cannot be decoded from the
// name alone: the SageMaker target stores an Origin record for them.
package sgname

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/bridgeops/bridge/internal/model"
)

// Prefix starts every SageMaker resource name Bridge creates.
const Prefix = "brdg-"

// MaxLen is SageMaker's limit for model, endpoint and endpoint config names.
const MaxLen = 63

// ConfigSuffixLen is the length of the "-<8 hex>" suffix of endpoint
// config names.
const ConfigSuffixLen = 9

// MaxEndpointLen is the longest endpoint name Bridge makes, so that its
// endpoint config names fit in MaxLen.
const MaxEndpointLen = MaxLen - ConfigSuffixLen

const hashLen = 10

var (
	validRE = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)
	wordsRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	wordRE  = regexp.MustCompile(`^[a-z0-9]+$`)
	hexRE   = regexp.MustCompile(`^[0-9a-f]{8}$`)
)

// Valid reports whether s is a valid SageMaker model, endpoint or endpoint
// config name.
func Valid(s string) bool { return validRE.MatchString(s) }

// Kinds of names, recorded in Origin.
const (
	KindModel    = "model"
	KindEndpoint = "endpoint"
)

// Origin is what a SageMaker name stands for: a model version (Kind model)
// or an endpoint (Kind endpoint).
type Origin struct {
	Kind    string `json:"kind"`
	Model   string `json:"model"`
	Version int    `json:"version,omitempty"`
	Slot    string `json:"slot,omitempty"`
}

// Ref is the version an Origin of kind model names.
func (o Origin) Ref() model.VersionRef { return model.VersionRef{Model: o.Model, Version: o.Version} }

// Key is the endpoint an Origin of kind endpoint names.
func (o Origin) Key() model.EndpointKey { return model.EndpointKey{Model: o.Model, Slot: o.Slot} }

var stageWords = map[string]string{
	model.SlotLatest:      "latest",
	model.StageStaging:    "staging",
	model.StageProduction: "production",
}

func slotWord(slot string) (string, bool) {
	if w, ok := stageWords[slot]; ok {
		return w, true
	}
	if !wordRE.MatchString(slot) {
		return "", false
	}
	for _, w := range stageWords {
		if w == slot { // an alias spelled like a stage
			return "", false
		}
	}
	return slot, true
}

func wordSlot(w string) string {
	for slot, sw := range stageWords {
		if sw == w {
			return slot
		}
	}
	return w
}

// Model returns the SageMaker model name of a version.
func Model(ref model.VersionRef) string {
	if wordsRE.MatchString(ref.Model) && ref.Version > 0 {
		n := Prefix + ref.Model + "-" + strconv.Itoa(ref.Version)
		if len(n) <= MaxLen {
			return n
		}
	}
	return hashed(MaxLen, KindModel, ref.Model+"-"+strconv.Itoa(ref.Version), ref.Model, strconv.Itoa(ref.Version))
}

// Endpoint returns the SageMaker endpoint name of an endpoint.
func Endpoint(key model.EndpointKey) string {
	if w, ok := slotWord(key.Slot); ok && wordsRE.MatchString(key.Model) {
		n := Prefix + key.Model + "-" + w
		if len(n) <= MaxEndpointLen {
			return n
		}
	}
	return hashed(MaxEndpointLen, KindEndpoint, key.Model+"-"+key.Slot, key.Model, key.Slot)
}

// EndpointConfig returns the name of an endpoint config of an endpoint;
// hash is the first 8 hex digits of a digest of the config's content.
func EndpointConfig(endpoint, hash string) string {
	return endpoint + "-" + hash
}

// ConfigEndpoint returns the endpoint an endpoint config name belongs to.
func ConfigEndpoint(config string) (string, bool) {
	if !strings.HasPrefix(config, Prefix) || len(config) <= ConfigSuffixLen+len(Prefix) {
		return "", false
	}
	cut := len(config) - ConfigSuffixLen
	if config[cut] != '-' || !hexRE.MatchString(config[cut+1:]) {
		return "", false
	}
	return config[:cut], true
}

// Hashed reports whether a Bridge name is in the hashed form, which needs
// a stored Origin to decode.
func Hashed(name string) bool {
	return strings.HasPrefix(name, Prefix) && strings.Contains(name, "--")
}

// ParseModel decodes a plain model name.
func ParseModel(name string) (model.VersionRef, bool) {
	if !strings.HasPrefix(name, Prefix) || Hashed(name) {
		return model.VersionRef{}, false
	}
	rest := name[len(Prefix):]
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return model.VersionRef{}, false
	}
	v, err := strconv.Atoi(rest[i+1:])
	if err != nil || v < 1 || strconv.Itoa(v) != rest[i+1:] || !wordsRE.MatchString(rest[:i]) {
		return model.VersionRef{}, false
	}
	return model.VersionRef{Model: rest[:i], Version: v}, true
}

// ParseEndpoint decodes a plain endpoint name.
func ParseEndpoint(name string) (model.EndpointKey, bool) {
	if !strings.HasPrefix(name, Prefix) || Hashed(name) {
		return model.EndpointKey{}, false
	}
	rest := name[len(Prefix):]
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 || !wordsRE.MatchString(rest[:i]) || !wordRE.MatchString(rest[i+1:]) {
		return model.EndpointKey{}, false
	}
	return model.EndpointKey{Model: rest[:i], Slot: wordSlot(rest[i+1:])}, true
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func hashed(max int, kind, readable string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		// Length-prefixed, so ("a-b", "c") and ("a", "b-c") differ.
		fmt.Fprintf(h, "\x00%d:%s", len(p), p)
	}
	sum := strings.ToLower(b32.EncodeToString(h.Sum(nil)))[:hashLen]
	room := max - len(Prefix) - 2 - hashLen
	abbrev := sanitise(readable, room)
	return Prefix + abbrev + "--" + sum
}

// sanitise lower-cases s, turns every run of other characters into one
// hyphen and trims it to at most n characters without a leading or
// trailing hyphen; an empty result becomes "m".
func sanitise(s string, n int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > n {
		out = out[:n]
	}
	out = strings.Trim(out, "-")
	if out == "" {
		out = "m"
	}
	return out
}
