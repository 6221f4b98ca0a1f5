package mlflowerr

import (
	"errors"
	"fmt"
	"testing"
)

type codedErr struct{ code string }

func (e *codedErr) Error() string      { return "coded " + e.code }
func (e *codedErr) MLflowCode() string { return e.code }

func TestCode(t *testing.T) {
	tests := []struct {
		name                      string
		err                       error
		code                      string
		notFound, exists, invalid bool
	}{
		{"nil", nil, "", false, false, false},
		{"plain", errors.New("disk full"), "", false, false, false},
		{"not found", &codedErr{NotFound}, NotFound, true, false, false},
		{"wrapped already exists", fmt.Errorf("create: %w", &codedErr{AlreadyExists}), AlreadyExists, false, true, false},
		{"twice wrapped invalid", fmt.Errorf("a: %w", fmt.Errorf("b: %w", &codedErr{Invalid})), Invalid, false, false, true},
		{"other code", &codedErr{Unauthenticated}, Unauthenticated, false, false, false},
		{"joined", errors.Join(errors.New("x"), &codedErr{NotFound}), NotFound, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Code(tt.err); got != tt.code {
				t.Errorf("Code = %q, want %q", got, tt.code)
			}
			if got := IsNotFound(tt.err); got != tt.notFound {
				t.Errorf("IsNotFound = %v, want %v", got, tt.notFound)
			}
			if got := IsAlreadyExists(tt.err); got != tt.exists {
				t.Errorf("IsAlreadyExists = %v, want %v", got, tt.exists)
			}
			if got := IsInvalid(tt.err); got != tt.invalid {
				t.Errorf("IsInvalid = %v, want %v", got, tt.invalid)
			}
		})
	}
}
