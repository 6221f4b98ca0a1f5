package store

import (
	"fmt"

	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
)

// Error is a registry error carrying MLflow's error code (mlflowerr.NotFound,
// AlreadyExists or Invalid), read with mlflowerr.Code and mlflowerr.IsNotFound
// and the like; the REST server maps the codes to HTTP statuses exactly as
// MLflow does. Errors from the database itself are returned wrapped, without
// a code.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// MLflowCode returns e.Code; it makes *Error a mlflowerr.Coded.
func (e *Error) MLflowCode() string { return e.Code }

func invalidf(format string, args ...any) error {
	return &Error{Code: mlflowerr.Invalid, Message: fmt.Sprintf(format, args...)}
}

func modelNotFound(name string) error {
	return &Error{Code: mlflowerr.NotFound, Message: fmt.Sprintf("Registered Model with name=%s not found", name)}
}

func versionNotFound(name string, version int) error {
	return &Error{Code: mlflowerr.NotFound, Message: fmt.Sprintf("Model Version (name=%s, version=%d) not found", name, version)}
}
