package store

import (
	"errors"
	"fmt"
)

// MLflow error codes the store reports. The REST server maps them to HTTP
// statuses exactly as MLflow does.
const (
	CodeNotFound      = "RESOURCE_DOES_NOT_EXIST"
	CodeAlreadyExists = "RESOURCE_ALREADY_EXISTS"
	CodeInvalid       = "INVALID_PARAMETER_VALUE"
)

// Error is a registry error carrying MLflow's error code. Errors from the
// database itself are returned wrapped, without a code.
type Error struct {
	Code    string // CodeNotFound, CodeAlreadyExists or CodeInvalid
	Message string
}

func (e *Error) Error() string { return e.Message }

// ErrorCode returns the MLflow error code of err, or "" when err is not a
// registry error (an I/O or database failure).
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsNotFound reports whether err says a model, version or alias does not exist.
func IsNotFound(err error) bool { return ErrorCode(err) == CodeNotFound }

// IsAlreadyExists reports whether err says a model already exists.
func IsAlreadyExists(err error) bool { return ErrorCode(err) == CodeAlreadyExists }

// IsInvalid reports whether err says a parameter was invalid.
func IsInvalid(err error) bool { return ErrorCode(err) == CodeInvalid }

func invalidf(format string, args ...any) error {
	return &Error{Code: CodeInvalid, Message: fmt.Sprintf(format, args...)}
}

func modelNotFound(name string) error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("Registered Model with name=%s not found", name)}
}

func versionNotFound(name string, version int) error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("Model Version (name=%s, version=%d) not found", name, version)}
}
