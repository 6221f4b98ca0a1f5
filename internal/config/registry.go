package config

import (
	"fmt"
	"regexp"
	"strings"
)

// Registry kinds (BRIDGE_REGISTRY).
const (
	RegistryEmbedded  = "embedded"
	RegistryMLflow    = "mlflow"
	RegistrySageMaker = "sagemaker"
)

// Environment variables of the registry choice.
const (
	EnvRegistry        = "BRIDGE_REGISTRY"
	EnvPackageGroups   = "BRIDGE_SAGEMAKER_MODEL_PACKAGE_GROUPS"
	EnvPackageSlots    = "BRIDGE_SAGEMAKER_SLOTS"
	DefaultPackageSlot = "Production=Approved,Staging=PendingManualApproval,Latest=*"
)

// SlotRule maps a model package approval status to an endpoint slot: the
// newest package whose status is Status (or any status but Rejected, for
// "*") is served on Slot.
type SlotRule struct {
	Slot   string
	Status string
}

// RegistrySettings say which registry bridge reads.
type RegistrySettings struct {
	// Kind is RegistryEmbedded, RegistryMLflow or RegistrySageMaker.
	// BRIDGE_REGISTRY; unset means mlflow when BRIDGE_MLFLOW_URI is set,
	// else embedded.
	Kind string
	// Groups are the SageMaker model package groups served
	// (BRIDGE_SAGEMAKER_MODEL_PACKAGE_GROUPS, comma-separated); empty
	// means every group of the account and region.
	Groups []string
	// Slots map approval statuses to endpoint slots (BRIDGE_SAGEMAKER_SLOTS,
	// default DefaultPackageSlot).
	Slots []SlotRule
}

var (
	groupNameRE = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)
	slotNameRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,62}$`)
)

// Registry reads RegistrySettings.
func (c Config) Registry() (RegistrySettings, error) {
	s := RegistrySettings{Kind: strings.ToLower(strings.TrimSpace(c.Get(EnvRegistry, "")))}
	switch s.Kind {
	case "":
		s.Kind = RegistryEmbedded
		if c.MLflowURI != "" {
			s.Kind = RegistryMLflow
		}
	case RegistryEmbedded, RegistrySageMaker:
	case RegistryMLflow:
		if c.MLflowURI == "" {
			return s, fmt.Errorf("%s=mlflow needs BRIDGE_MLFLOW_URI", EnvRegistry)
		}
	default:
		return s, fmt.Errorf("%s=%q: want embedded, mlflow or sagemaker", EnvRegistry, s.Kind)
	}
	for _, g := range strings.Split(c.Get(EnvPackageGroups, ""), ",") {
		if g = strings.TrimSpace(g); g == "" {
			continue
		}
		if !groupNameRE.MatchString(g) {
			return s, fmt.Errorf("%s: %q is not a model package group name (letters, digits and hyphens, at most 63)", EnvPackageGroups, g)
		}
		s.Groups = append(s.Groups, g)
	}
	slots := c.Get(EnvPackageSlots, "")
	if strings.TrimSpace(slots) == "" {
		slots = DefaultPackageSlot
	}
	rules, err := ParseSlotRules(slots)
	if err != nil {
		return s, fmt.Errorf("%s: %w", EnvPackageSlots, err)
	}
	s.Slots = rules
	return s, nil
}

// ParseSlotRules parses "Slot=Status,...": Status is Approved,
// PendingManualApproval or * (any status but Rejected).
func ParseSlotRules(v string) ([]SlotRule, error) {
	var out []SlotRule
	seen := map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		slot, status, ok := strings.Cut(part, "=")
		slot, status = strings.TrimSpace(slot), strings.TrimSpace(status)
		if !ok || !slotNameRE.MatchString(slot) {
			return nil, fmt.Errorf("%q: want SLOT=STATUS, e.g. Production=Approved", part)
		}
		switch status {
		case "Approved", "PendingManualApproval", "*":
		case "Rejected":
			return nil, fmt.Errorf("%q: Rejected packages are never served", part)
		default:
			return nil, fmt.Errorf("%q: status must be Approved, PendingManualApproval or *", part)
		}
		if seen[strings.ToLower(slot)] {
			return nil, fmt.Errorf("slot %s is mapped twice", slot)
		}
		seen[strings.ToLower(slot)] = true
		out = append(out, SlotRule{Slot: slot, Status: status})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no slot rules in %q", v)
	}
	return out, nil
}
