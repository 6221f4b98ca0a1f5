package sagemaker

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
)

func TestVersionsMapping(t *testing.T) {
	def, err := config.ParseSlotRules(config.DefaultPackageSlot)
	if err != nil {
		t.Fatal(err)
	}
	champion, err := config.ParseSlotRules("champion=Approved,challenger=PendingManualApproval")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		approvals []string // version i+1
		rules     []config.SlotRule
		want      map[string]int // slot -> version
	}{
		{"newest approved, not the oldest", []string{Approved, Approved, Pending}, def, map[string]int{"Production": 2, "Staging": 3, "Latest": 3}},
		{"rejected never served", []string{Approved, Rejected}, def, map[string]int{"Production": 1, "Latest": 1}},
		{"only rejected", []string{Rejected, Rejected}, def, map[string]int{}},
		{"pending only", []string{Pending}, def, map[string]int{"Staging": 1, "Latest": 1}},
		{"newest is approved", []string{Pending, Approved}, def, map[string]int{"Production": 2, "Staging": 1, "Latest": 2}},
		{"custom slots", []string{Approved, Pending, Approved}, champion, map[string]int{"champion": 3, "challenger": 2}},
		// APPROVAL/STATUS: a package that is not Completed is not served.
		{"failed or deleting packages skipped", []string{Approved, Approved + "/Failed", Pending + "/Deleting", Pending + "/InProgress"}, def, map[string]int{"Production": 1, "Latest": 1}},
		{"completed", []string{Approved + "/Completed"}, def, map[string]int{"Production": 1, "Latest": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pkgs []Summary
			for i, a := range tc.approvals {
				// Listed newest first, as the registry asks SageMaker to.
				approval, status, _ := strings.Cut(a, "/")
				pkgs = append([]Summary{{Group: "g", Version: i + 1, ARN: fmt.Sprint("arn/", i+1), Approval: approval, Status: status}}, pkgs...)
			}
			vs := Versions(pkgs, tc.rules, nil)
			got := map[string]int{}
			for _, v := range vs {
				for _, s := range v.Aliases {
					got[s] = v.Version
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("slots %v, want %v", got, tc.want)
			}
			for _, v := range vs {
				approval, _, _ := strings.Cut(tc.approvals[v.Version-1], "/")
				if a := v.Tags[TagApprovalStatus]; a != approval {
					t.Errorf("v%d: tag %s=%q, want %q", v.Version, TagApprovalStatus, a, approval)
				}
			}
			// The planner serves exactly those slots.
			d := model.DesiredFrom(vs)
			served := map[string]int{}
			for _, e := range d.Endpoints {
				if len(e.Versions) != 1 {
					t.Fatalf("endpoint %v serves %v", e.Key, e.Versions)
				}
				served[e.Key.Slot] = e.Versions[0].Version
			}
			if fmt.Sprint(served) != fmt.Sprint(tc.want) {
				t.Fatalf("desired endpoints %v, want %v", served, tc.want)
			}
		})
	}
}

func TestParseSlotRules(t *testing.T) {
	for _, tc := range []struct {
		in      string
		wantErr bool
	}{
		{config.DefaultPackageSlot, false},
		{"Production=Approved", false},
		{"Production=Rejected", true},
		{"Production=Approved,production=*", true},
		{"Production", true},
		{"Production=Maybe", true},
		{"", true},
	} {
		if _, err := config.ParseSlotRules(tc.in); (err != nil) != tc.wantErr {
			t.Errorf("ParseSlotRules(%q): %v", tc.in, err)
		}
	}
}
